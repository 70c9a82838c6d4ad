using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// Does splitting each batch into independent half-batches, one per core with one libtorch thread
/// each, beat one batch on all cores? (Two 1-thread trainings side by side get more tokens/s in
/// total than one 2-thread training.) Times forward + backward of `small` both ways on random
/// tokens, both through <see cref="BatchStreams"/> (the trainer's `streams` setting).
/// Options: --preset small, --steps N, --precision.
/// </summary>
static class StreamsBench
{
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--precision", "--preset", "--steps"];

    public static int Run(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        string preset = BenchArgs.Option(args, "--preset") ?? "small";
        int steps = int.Parse(BenchArgs.Option(args, "--steps") ?? "10");
        MatmulPrecision precision = Enum.Parse<MatmulPrecision>(BenchArgs.Option(args, "--precision") ?? "bf16", ignoreCase: true);
        var config = TrainingPresets.Get(preset, 2048);
        var m = config.Model;
        int B = config.BatchSize, T = m.NCtx, cores = TorchRuntime.Threads;
        using var generator = new Generator().manual_seed(1);
        using var model = new SparseGpt(m, generator) { MatmulPrecision = precision };
        List<Tensor> parameters = model.parameters().Select(p => (Tensor)p).ToList();
        using Tensor batch = randint(0, m.VocabSize, [B, T + 1], generator: generator);

        // Both layouts through the trainer's own code (BatchStreams), gradients left in .grad.
        double Step(int streams) => BenchTiming.Median(steps, () =>
        {
            using var scope = NewDisposeScope();
            BatchStreams.ForwardBackward(model, batch, parameters, streams);
        });
        double oneStream = Step(1), streams = Step(cores);

        double tokens = config.TokensPerStep;
        Console.WriteLine($"{preset}, {precision.ToString().ToLowerInvariant()} matmuls, {cores} cores, forward + backward of {B} x {T} tokens, median of {steps}:");
        Console.WriteLine($"| layout | ms per step | tokens/s |");
        Console.WriteLine($"|---|---|---|");
        Console.WriteLine($"| one batch, {cores} libtorch threads | {oneStream * 1000:0} | {tokens / oneStream:N0} |");
        Console.WriteLine($"| {cores} half-batches on {cores} threads, 1 libtorch thread each | {streams * 1000:0} | {tokens / streams:N0} |");
        return 0;
    }

}

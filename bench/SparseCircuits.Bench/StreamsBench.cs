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
/// tokens; the streams variant takes each half's gradients with autograd.grad and sums them in a
/// fixed order, so it would stay deterministic. Options: --preset small, --steps N, --precision.
/// </summary>
static class StreamsBench
{
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

        Tensor[] Gradients(Tensor rows)
        {
            Tensor logits = model.forward(rows.narrow(1, 0, T));
            Tensor loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[2]), rows.narrow(1, 1, T).reshape(-1));
            return torch.autograd.grad([loss], parameters, allow_unused: true).ToArray();
        }

        double oneStream = BenchTiming.Median(steps, () =>
        {
            using var scope = NewDisposeScope();
            Gradients(batch);
        });

        // One libtorch thread per stream; the streams run on their own OS threads.
        torch.set_num_threads(1);
        double streams;
        try
        {
            Tensor[] halves = batch.chunk(cores, dim: 0);
            streams = BenchTiming.Median(steps, () =>
            {
                var results = new Tensor[cores][];
                var threads = Enumerable.Range(0, cores).Select(i => new Thread(() =>
                {
                    using var scope = NewDisposeScope();
                    results[i] = Gradients(halves[i]).Select(g => g.MoveToOuterDisposeScope()).ToArray();
                    foreach (Tensor g in results[i]) g.DetachFromDisposeScope();
                })).ToList();
                foreach (var t in threads) t.Start();
                foreach (var t in threads) t.Join();
                using var sumScope = NewDisposeScope();
                for (int p = 0; p < parameters.Count; p++)
                {
                    Tensor sum = results[0][p].clone();
                    for (int i = 1; i < cores; i++) sum.add_(results[i][p]);
                }
                foreach (var r in results) foreach (Tensor g in r) g.Dispose();
            });
        }
        finally
        {
            torch.set_num_threads(cores);
        }
        double tokens = config.TokensPerStep;
        Console.WriteLine($"{preset}, {precision.ToString().ToLowerInvariant()} matmuls, {cores} cores, forward + backward of {B} x {T} tokens, median of {steps}:");
        Console.WriteLine($"| layout | ms per step | tokens/s |");
        Console.WriteLine($"|---|---|---|");
        Console.WriteLine($"| one batch, {cores} libtorch threads | {oneStream * 1000:0} | {tokens / oneStream:N0} |");
        Console.WriteLine($"| {cores} half-batches on {cores} threads, 1 libtorch thread each | {streams * 1000:0} | {tokens / streams:N0} |");
        return 0;
    }

}

using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Official;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// Inference speed and memory of one model (docs/official-models.md, "Speed and memory"): the
/// forward pass of a run (<c>--model RUN</c>, e.g. an imported release model) or of random weights
/// in the shape of a release config (<c>--release-config beeg_config.json</c>, to size models not
/// on this machine). Options: --batch B (default 1), --tokens T (default n_ctx), --repeats N (5).
/// Prints parameters, load time, median forward time, tokens/s, dense-equivalent GFLOP/s and peak RSS.
/// </summary>
static class ForwardBench
{
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--batch", "--model", "--release-config", "--repeats", "--tokens"];

    public static int Run(string[] args)
    {
        string? run = BenchArgs.Option(args, "--model"), releaseConfig = BenchArgs.Option(args, "--release-config");
        if ((run is null) == (releaseConfig is null))
        {
            Console.Error.WriteLine("forward: give --model RUN or --release-config beeg_config.json");
            return 2;
        }
        TorchRuntime.EnsureInitialized();
        var clock = Stopwatch.StartNew();
        TrainedModel? trained = run is null ? null : TrainedModel.Load(run);
        SparseGpt model = trained?.Model ?? RandomModel(ReleaseConfig.Read(releaseConfig!).Model);
        double loadSeconds = clock.Elapsed.TotalSeconds;
        long loadedMiB = Status("VmRSS:");
        ModelConfig c = model.Config;

        int batch = int.Parse(BenchArgs.Option(args, "--batch") ?? "1");
        int tokens = int.Parse(BenchArgs.Option(args, "--tokens") ?? c.NCtx.ToString());
        int repeats = int.Parse(BenchArgs.Option(args, "--repeats") ?? "5");
        using Tensor input = randint(0, c.VocabSize, [batch, tokens], dtype: ScalarType.Int64, generator: new Generator(1));
        model.eval();
        double seconds = BenchTiming.Median(repeats, () =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            model.forward(input);
        });

        long parameters = c.ParameterCount();
        // Dense-equivalent FLOPs: 2 per matmul weight entry per token (the zeros are multiplied too)
        // plus QK^T and AV (2 x 2 x n_head*d_head per earlier position, T/2 on average).
        long matmulWeights = model.DescribeParameters().Where(p => p.Kind == ParameterKind.Matrix || p.Name == "lm_head.weight").Sum(p => p.Tensor.numel());
        double flopsPerToken = 2.0 * matmulWeights + 2.0 * c.NLayer * tokens * c.NHead * c.DHead;
        double tokensPerSecond = batch * tokens / seconds;
        Console.WriteLine($"model: {run ?? releaseConfig} ({(run is null ? "random weights" : "loaded")}), {parameters:N0} parameters, " +
                          $"{c.NLayer} layers, d_model {c.DModel}, d_mlp {c.MlpWidth}, n_ctx {c.NCtx}; load {loadSeconds:F2} s");
        Console.WriteLine($"threads: {TorchRuntime.Threads}; forward of {batch} x {tokens} tokens: median {seconds * 1000:F1} ms of {repeats} " +
                          $"= {tokensPerSecond:N0} tokens/s, {flopsPerToken * tokensPerSecond / 1e9:F1} GFLOP/s dense-equivalent");
        Console.WriteLine($"RSS after loading {loadedMiB:N0} MiB, peak {Status("VmHWM:"):N0} MiB (parameters alone {parameters * 4 / 1048576.0:N0} MiB)");
        if (trained is not null) trained.Dispose();
        else model.Dispose();
        return 0;
    }

    static SparseGpt RandomModel(ModelConfig config)
    {
        var model = new SparseGpt(config, new Generator(1));
        using var noGrad = no_grad();
        // Release weights are dense tensors; only their values matter here, not their zeros.
        foreach (var (_, t) in model.state_dict()) t.normal_(0, 0.02, new Generator(2));
        return model;
    }

    /// <summary>A memory line of /proc/self/status in MiB: VmRSS (now) or VmHWM (the peak so far).</summary>
    static long Status(string field) =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith(field, StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).FirstOrDefault();
}

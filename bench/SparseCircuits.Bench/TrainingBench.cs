using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// Training speed per preset, sparse and dense: tokens/s and achieved GFLOP/s of (a) a bare
/// forward/backward/Adam loop and (b) the full trainer (projection, schedules, logging, eval,
/// checkpoints), plus peak memory, against the fp32 GEMM peak measured in the same run.
/// Options: --data DIR (token shards, default data/shards), --presets tiny,small,base, --steps N (default 30),
/// --precision fp32|bf16 (matmul precision of both loops).
/// FLOPs per token: 6 * (matmul parameters) + 12 * n_layer * n_ctx * d_model (attention, PaLM's
/// count), i.e. dense-equivalent: libtorch multiplies the zeros of sparse matrices too.
/// </summary>
static class TrainingBench
{
    
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--data", "--precision", "--presets", "--steps"];

    public static int Run(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        string data = BenchArgs.Option(args, "--data") ?? "data/shards";
        string[] presets = (BenchArgs.Option(args, "--presets") ?? "tiny,small,base").Split(',');
        int steps = int.Parse(BenchArgs.Option(args, "--steps") ?? "30");
        MatmulPrecision precision = Enum.Parse<MatmulPrecision>(BenchArgs.Option(args, "--precision") ?? "fp32", ignoreCase: true);
        var shards = ShardManifest.Load(data);
        double peakGflops = GemmPeak.Measure();
        Console.WriteLine($"{precision.ToString().ToLowerInvariant()} matmuls, threads {TorchRuntime.Threads}, {steps} timed steps after 3 warm-up steps, measured fp32 GEMM peak {peakGflops:0} GFLOP/s");
        Console.WriteLine("| preset | mode | params | FLOP/token | bare loop tok/s | trainer tok/s | trainer GFLOP/s | % of peak | trainer/bare | peak RSS MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (string preset in presets)
        {
            foreach (bool dense in new[] { false, true })
            {
                var config = TrainingPresets.Get(preset, shards.VocabSize) with
                {
                    Dense = dense, Steps = steps + 3, MatmulPrecision = precision, EvalInterval = 1_000_000, CheckpointInterval = 1_000_000, EvalTokens = 1,
                };
                double flopsPerToken = FlopsPerToken(config.Model);
                double bare = BareLoop(config, data, steps);
                double trainer = FullTrainer(config, data);
                double gflops = trainer * flopsPerToken / 1e9;
                long rss = Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20);
                Console.WriteLine($"| {preset} | {(dense ? "dense" : "sparse")} | {config.Model.ParameterCount() / 1e6:0.00}M | {flopsPerToken / 1e6:0.0}M | " +
                                  $"{bare:N0} | {trainer:N0} | {gflops:0.0} | {100 * gflops / peakGflops:0}% | {trainer / bare:0.00} | {rss} |");
            }
        }
        return 0;
    }

    public static double FlopsPerToken(ModelConfig c)
    {
        double matmulParams = c.ParameterCount() - (double)c.VocabSize * c.DModel            // wte is a lookup
                              - (c.BigramTable ? (double)c.VocabSize * c.VocabSize : 0)      // so is the bigram table
                              - (c.PositionalEmbedding == PositionalEmbedding.Learned ? (double)c.NCtx * c.DModel : 0);
        return 6 * matmulParams + 12.0 * c.NLayer * c.NCtx * c.DModel;
    }

    /// <summary>Forward, backward, Adam step: nothing else.</summary>
    static double BareLoop(TrainingConfig config, string data, int steps)
    {
        var shards = ShardManifest.Load(data);
        using var shard = shards.Open(data, CorpusSplit.Train);
        var sampler = new RandomWindowSampler(shard, config.BatchSize, config.Model.NCtx, 0);
        using var model = new SparseGpt(config.Model) { MatmulPrecision = config.MatmulPrecision };
        using var optimizer = new AdamWithDecoupledDecay(
            model.DescribeParameters().Select(p => new OptimizedParameter(p.Name, p.Tensor, true)), config.Optimizer);
        int T = config.Model.NCtx;
        List<Tensor> parameters = model.parameters().Select(p => (Tensor)p).ToList();
        var clock = new Stopwatch();
        for (int step = 0; step < steps + 3; step++)
        {
            if (step == 3) clock.Start();
            using var scope = NewDisposeScope();
            Tensor batch = tensor(sampler.Next()).view(config.BatchSize, T + 1);
            BatchStreams.ForwardBackward(model, batch, parameters, config.Streams);
            optimizer.Step(1e-3);
        }
        return steps * config.TokensPerStep / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The real trainer; the first 3 steps are excluded using the per-step metrics' timing.</summary>
    static double FullTrainer(TrainingConfig config, string data)
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"sc-bench-train-{Guid.NewGuid():N}");
        try
        {
            Trainer.Run(new TrainingRequest(config, data, outDir, StopAfterStep: 3), NullProgress.Instance);
            var clock = Stopwatch.StartNew();
            Trainer.Run(new TrainingRequest(config, data, outDir, Resume: true), NullProgress.Instance);
            double seconds = clock.Elapsed.TotalSeconds - ResumeOverhead(config, data);
            return (config.Steps - 3) * config.TokensPerStep / seconds;
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    /// <summary>Time of a resume that runs no step (loading, unigram baseline, final checkpoint), subtracted from the timed run.</summary>
    static double ResumeOverhead(TrainingConfig config, string data)
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"sc-bench-overhead-{Guid.NewGuid():N}");
        try
        {
            var one = config with { Steps = 1 };
            Trainer.Run(new TrainingRequest(one, data, outDir), NullProgress.Instance);
            var clock = Stopwatch.StartNew();
            Trainer.Run(new TrainingRequest(one, data, outDir, Resume: true), NullProgress.Instance);
            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

}

using System.Diagnostics;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// Dense against sparse linear kernels (<see cref="LinearKernels"/>) on whole models: n_layer
/// blocks of width d, AbsTopK 1/4 at all eight locations, matrices projected to each density
/// (embeddings and lm_head to 4x that, at most 1), random tokens. Two step kinds, each timed
/// alternately dense/sparse in this process, medians of --reps:
/// <list type="bullet">
/// <item><c>prune</c>: one chunk of mask optimisation as <see cref="LearnedMasks"/> runs it: frozen
/// weights (layouts cached), node masks through <see cref="NodeAblation"/> hooks at every
/// location, logits at one position per prompt, backward into the mask;</item>
/// <item><c>train</c>: forward, fused cross-entropy, backward, Adam, the top-k projection (after
/// which the sparse path rebuilds its layouts at the next forward).</item>
/// </list>
/// Options: --widths 128,256,512,1024 --densities 8,16,32,64 (1/N) --layers 4 --batch 16 --ctx 256
/// (train tokens per step = batch x ctx) --prompts 32 --prompt-len 128 (prune) --reps 5
/// --modes prune,train --precisions fp32,bf16 --vocab 4096 --paths dense,sparse --isa
/// avx512|avx2|portable (the sparse kernels' vector form; default the widest this CPU runs)
/// --streams N (train: the batch split into N parts run side by side; default what `circuits
/// train` uses on this many threads, <see cref="TrainingPresets.StreamsFor"/>).
/// </summary>
static class SparseKernelsBench
{
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--batch", "--ctx", "--densities", "--isa", "--layers", "--modes", "--paths", "--precisions", "--prompt-len", "--prompts", "--reps", "--streams", "--vocab", "--widths"];

    public static int Run(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        int[] widths = BenchArgs.Ints(args, "--widths", "128,256,512,1024");
        int[] densities = BenchArgs.Ints(args, "--densities", "8,16,32,64");
        int layers = int.Parse(BenchArgs.Option(args, "--layers") ?? "4");
        int batch = int.Parse(BenchArgs.Option(args, "--batch") ?? "16");
        int ctx = int.Parse(BenchArgs.Option(args, "--ctx") ?? "256");
        int prompts = int.Parse(BenchArgs.Option(args, "--prompts") ?? "32");
        int promptLength = int.Parse(BenchArgs.Option(args, "--prompt-len") ?? "128");
        int reps = int.Parse(BenchArgs.Option(args, "--reps") ?? "5");
        int vocab = int.Parse(BenchArgs.Option(args, "--vocab") ?? "4096");
        int streams = int.Parse(BenchArgs.Option(args, "--streams") ?? TrainingPresets.StreamsFor(batch, TorchRuntime.Threads).ToString());
        string[] modes = (BenchArgs.Option(args, "--modes") ?? "prune,train").Split(',');
        Paths = (BenchArgs.Option(args, "--paths") ?? "dense,sparse").Split(',');
        MatmulPrecision[] precisions = (BenchArgs.Option(args, "--precisions") ?? "fp32,bf16").Split(',')
            .Select(p => Enum.Parse<MatmulPrecision>(p, ignoreCase: true)).ToArray();

        using IDisposable isa = KernelVectors.Use(BenchArgs.Isa(args));
        Console.WriteLine($"threads {TorchRuntime.Threads}, {layers} layers, AbsTopK 1/4 everywhere, vocab {vocab}, {KernelVectors.Current} kernels; train {batch}x{ctx} tokens/step in {streams} stream(s), " +
                          $"prune {prompts} prompts x {promptLength} tokens/chunk; medians of {reps}, dense/sparse alternated; load average {BenchArgs.LoadAverage()}");
        Console.WriteLine("| d_model | density | step | precision | dense ms | sparse ms | dense/sparse |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int width in widths)
        foreach (int inverse in densities)
        foreach (string mode in modes)
        foreach (MatmulPrecision precision in precisions)
        {
            var (dense, sparse) = mode switch
            {
                "prune" => Prune(width, layers, vocab, 1.0 / inverse, prompts, promptLength, precision, reps),
                "train" => Train(width, layers, vocab, 1.0 / inverse, batch, ctx, streams, precision, reps),
                "layer" => Layer(width, 1.0 / inverse, batch * ctx, precision, reps),
                _ => throw new ArgumentException($"unknown mode {mode}; use prune or train"),
            };
            Console.WriteLine($"| {width} | 1/{inverse} | {mode} | {precision.ToString().ToLowerInvariant()} | {dense * 1e3:0.0} | {sparse * 1e3:0.0} | {dense / sparse:0.00}x |");
        }
        Console.WriteLine($"load average at the end {BenchArgs.LoadAverage()}");
        return 0;
    }

    static (SparseGpt Model, TrainingConfig Config) Model(int width, int layers, int vocab, double density, int ctx, MatmulPrecision precision)
    {
        var model = new ModelConfig
        {
            VocabSize = vocab, NLayer = layers, DModel = width, NCtx = ctx, ActivationSparsity = ActivationSparsity.PaperText,
        };
        var config = new TrainingConfig
        {
            Model = model, Steps = 1, AnnealFraction = 0, WarmupFraction = 0, WeightDensity = density, EmbeddingDensity = Math.Min(1, 4 * density),
            MatmulPrecision = precision,
        };
        var gpt = new SparseGpt(model, new Generator(1, CPU)) { MatmulPrecision = precision };
        Trainer.Project(gpt.DescribeParameters(), config, 0);
        return (gpt, config);
    }

    static Tensor Tokens(int batch, int length, int vocab, ulong seed) =>
        randint(0, vocab, [batch, length], generator: new Generator(seed, CPU));

    /// <summary>Seconds per step, dense and sparse, alternated: two warm-up steps each, then medians of <paramref name="reps"/>.</summary>
    static (double Dense, double Sparse) Alternate(SparseGpt model, int reps, Action step)
    {
        var times = new[] { new List<double>(), new List<double>() };
        for (int rep = -2; rep < reps; rep++)
        {
            for (int path = 0; path < 2; path++)
            {
                if (!Paths.Contains(path == 0 ? "dense" : "sparse")) continue;
                model.LinearKernels = path == 0 ? LinearKernels.Dense : LinearKernels.Sparse;
                var clock = Stopwatch.StartNew();
                step();
                if (rep >= 0) times[path].Add(clock.Elapsed.TotalSeconds);
            }
        }
        return (Median(times[0]), Median(times[1]));
    }

    /// <summary>Which paths to time (--paths dense,sparse); one alone is for profilers.</summary>
    static string[] Paths = ["dense", "sparse"];

    static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return values[values.Count / 2];
    }

    static (double, double) Prune(int width, int layers, int vocab, double density, int prompts, int length, MatmulPrecision precision, int reps)
    {
        var (model, _) = Model(width, layers, vocab, density, length, precision);
        using (model)
        {
            using Tensor tokens = Tokens(prompts, length, vocab, 2);
            using Tensor last = randint(length / 4, length, [prompts], generator: new Generator(3, CPU));
            var space = new NodeSpace(model.Config);
            using MeanActivations means = MeanActivations.Compute(model, [Tokens(8, length, vocab, 4)]);
            using var ablation = new NodeAblation(space, means, AblationKind.Mean);
            using var frozen = new FrozenWeights(model);
            using Tensor tau = rand(space.Count, generator: new Generator(5, CPU)).requires_grad_(true);
            return Alternate(model, reps, () =>
            {
                using var scope = NewDisposeScope();
                tau.grad?.zero_();
                Tensor mask = tau.sigmoid();
                Tensor logits = model.LogitsAt(tokens, last, ablation.Masked(mask));
                logits.square().mean().backward();
            });
        }
    }

    /// <summary>
    /// One (4d, d) layer like c_fc, forward only: dense libtorch linear in the precision against
    /// <see cref="SparseLinear.Multiply"/> (layout built outside the timing).
    /// </summary>
    static (double, double) Layer(int width, double density, int tokens, MatmulPrecision precision, int reps)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7, CPU);
        Tensor w = randn(4 * width, width, generator: g);
        WeightSparsity.Project(w, WeightSparsity.TargetNonzeros(w.numel(), density), WeightSparsity.DefaultMinPerNeuron, NeuronAxis.Rows);
        Tensor x = AbsTopK.Apply(randn(tokens, width, generator: g), width / 4);
        Tensor b = randn(4 * width, generator: g);
        SparseWeight layout = SparseWeight.From(w);
        Tensor wLow = w.to(ScalarType.BFloat16), bLow = b.to(ScalarType.BFloat16);
        double dense = BenchTiming.Median(reps, () =>
        {
            using var step = NewDisposeScope();
            if (precision == MatmulPrecision.Fp32) nn.functional.linear(x, w, b);
            else nn.functional.linear(x.to(ScalarType.BFloat16), wLow, bLow).to(ScalarType.Float32);
        });
        double sparse = BenchTiming.Median(reps, () =>
        {
            using var step = NewDisposeScope();
            SparseLinear.Multiply(layout.Rows, x, b);
        });
        return (dense, sparse);
    }

    static (double, double) Train(int width, int layers, int vocab, double density, int batch, int ctx, int streams, MatmulPrecision precision, int reps)
    {
        var (model, config) = Model(width, layers, vocab, density, ctx, precision);
        using (model)
        {
            using Tensor windows = Tokens(batch, ctx + 1, vocab, 6);
            var parameters = model.DescribeParameters();
            using var optimizer = new AdamWithDecoupledDecay(parameters.Select(p => new OptimizedParameter(p.Name, p.Tensor, p.IsSparseMatrix)), config.Optimizer);
            List<Tensor> tensors = parameters.Select(p => (Tensor)p.Tensor).ToList();
            model.train();
            return Alternate(model, reps, () =>
            {
                using var scope = NewDisposeScope();
                BatchStreams.ForwardBackward(model, windows, tensors, streams);
                optimizer.Step(1e-3);
                Trainer.Project(parameters, config, 0);
            });
        }
    }
}

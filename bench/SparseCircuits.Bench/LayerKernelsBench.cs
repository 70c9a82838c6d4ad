using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// The three matmuls of one linear layer alone, dense (libtorch, fp32 and bf16) against the sparse
/// kernels, in ms and GFLOP/s of useful work (two flops per multiply-add with a nonzero weight for
/// forward and input gradient; per nonzero product of the sparser operand for the weight gradient,
/// which is what the sparse kernel computes). Layers as in a block of width d: <c>c_fc</c> (4d, d)
/// and the MLP's <c>c_proj</c> (d, 4d), inputs and output gradients AbsTopK 1/4 per token, weight
/// projected to each density. Options: --widths 512 --densities 32 --tokens 4096 --reps 7
/// --fills 4 (AbsTopK keeps 1/N of each token's inputs and output gradients; several give the
/// weight gradient's crossover) --precisions fp32,bf16 (dense columns to time) --isa
/// avx512|avx2|portable (the sparse kernels' vector form; default the widest this CPU runs)
/// --libtorch-sparse (also time libtorch's COO sparse matmul on c_fc's forward).
/// </summary>
static class LayerKernelsBench
{
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--densities", "--fills", "--isa", "--libtorch-sparse", "--precisions", "--reps", "--tokens", "--widths"];

    public static int Run(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        int[] widths = BenchArgs.Ints(args, "--widths", "512");
        int[] densities = BenchArgs.Ints(args, "--densities", "32");
        int tokens = int.Parse(BenchArgs.Option(args, "--tokens") ?? "4096");
        int reps = int.Parse(BenchArgs.Option(args, "--reps") ?? "7");
        int[] fills = BenchArgs.Ints(args, "--fills", "4");
        bool bf16 = (BenchArgs.Option(args, "--precisions") ?? "fp32,bf16").Split(',').Contains("bf16", StringComparer.OrdinalIgnoreCase);
        using IDisposable isa = KernelVectors.Use(BenchArgs.Isa(args));
        Console.WriteLine($"threads {TorchRuntime.Threads}, {tokens} tokens, medians of {reps}, {KernelVectors.Current} kernels; load average {BenchArgs.LoadAverage()}");
        Console.WriteLine("| d_model | layer | density | AbsTopK | op | dense fp32 ms | dense bf16 ms | sparse ms | sparse GFLOP/s | fp32/sparse | bf16/sparse |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int width in widths)
        foreach (int inverse in densities)
        foreach (int fill in fills)
        foreach (var (name, outFeatures, inFeatures) in new[] { ("c_fc", 4 * width, width), ("c_proj", width, 4 * width) })
            Layer($"{width} | {name} | 1/{inverse} | 1/{fill}", outFeatures, inFeatures, 1.0 / inverse, tokens, reps, fill, bf16);
        Console.WriteLine($"load average at the end {BenchArgs.LoadAverage()}");
        if (args.Contains("--libtorch-sparse"))
            foreach (int width in widths)
            foreach (int inverse in densities)
                LibtorchSparse(width, 1.0 / inverse, tokens, reps, inverse);
        return 0;
    }

    /// <summary>
    /// libtorch's own sparse CPU matmul on c_fc's forward: W as a COO tensor (TorchSharp 0.107 has
    /// no CSR) times xᵀ, against the C# kernel; for the record, not used by the library.
    /// </summary>
    static void LibtorchSparse(int width, double density, int tokens, int reps, int inverse)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7, CPU);
        Tensor w = randn(4 * width, width, generator: g);
        WeightSparsity.Project(w, WeightSparsity.TargetNonzeros(w.numel(), density), WeightSparsity.DefaultMinPerNeuron, NeuronAxis.Rows);
        Tensor x = AbsTopK.Apply(randn(tokens, width, generator: g), width / 4);
        Tensor coo = w.to_sparse();
        SparseWeight layout = SparseWeight.From(w);
        Tensor reference = x.matmul(w.t());
        double error = (coo.matmul(x.t()).t() - reference).abs().max().item<float>();
        double libtorch = Time(reps, () => coo.matmul(x.t()).t().contiguous());
        double ours = Time(reps, () => SparseLinear.Multiply(layout.Rows, x, bias: null));
        Console.WriteLine($"libtorch COO x dense, c_fc forward, d_model {width}, 1/{inverse}: {libtorch * 1e3:0.0} ms " +
                          $"({2.0 * tokens * layout.Nonzeros / libtorch / 1e9:0.0} GFLOP/s, max error {error:g2}); C# kernel {ours * 1e3:0.0} ms");
    }

    static void Layer(string name, int outFeatures, int inFeatures, double density, int tokens, int reps, int fill, bool bf16)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7, CPU);
        Tensor w = randn(outFeatures, inFeatures, generator: g);
        WeightSparsity.Project(w, WeightSparsity.TargetNonzeros(w.numel(), density), WeightSparsity.DefaultMinPerNeuron, NeuronAxis.Rows);
        Tensor x = AbsTopK.Apply(randn(tokens, inFeatures, generator: g), inFeatures / fill);
        Tensor dy = AbsTopK.Apply(randn(tokens, outFeatures, generator: g), outFeatures / fill);
        SparseWeight layout = SparseWeight.From(w);
        Tensor? wLow = bf16 ? w.to(ScalarType.BFloat16) : null, xLow = bf16 ? x.to(ScalarType.BFloat16) : null, dyLow = bf16 ? dy.to(ScalarType.BFloat16) : null;
        double weightFlops = 2.0 * tokens * layout.Nonzeros;
        double gradientFlops = 2.0 * Math.Min(x.count_nonzero().item<long>() * outFeatures, dy.count_nonzero().item<long>() * inFeatures);

        Row(name, "forward", weightFlops, reps,
            () => x.matmul(w.t()),
            bf16 ? () => xLow!.matmul(wLow!.t()).to(ScalarType.Float32) : null,
            () => SparseLinear.Multiply(layout.Rows, x, bias: null));
        Row(name, "input grad", weightFlops, reps,
            () => dy.matmul(w),
            bf16 ? () => dyLow!.matmul(wLow!).to(ScalarType.Float32) : null,
            () => SparseLinear.Multiply(layout.Transposed, dy, bias: null));
        Row(name, "weight grad", gradientFlops, reps,
            () => dy.t().matmul(x),
            bf16 ? () => dyLow!.t().matmul(xLow!).to(ScalarType.Float32) : null,
            () =>
            {
                var (_, outputSide) = SparseWeightGradient.Estimate(dy, x);
                return SparseWeightGradient.Compute(dy, x, outputSide);
            });
    }

    static void Row(string name, string op, double flops, int reps, Func<Tensor> fp32, Func<Tensor>? bf16, Func<Tensor> sparse)
    {
        double dense = Time(reps, fp32);
        double? low = bf16 is null ? null : Time(reps, bf16);
        double s = Time(reps, sparse);
        string lowMs = low is null ? "—" : $"{low * 1e3:0.0}", lowRatio = low is null ? "—" : $"{low / s:0.00}x";
        Console.WriteLine($"| {name} | {op} | {dense * 1e3:0.0} | {lowMs} | {s * 1e3:0.0} | {flops / s / 1e9:0.0} | {dense / s:0.00}x | {lowRatio} |");
    }

    static double Time(int reps, Func<Tensor> op) => BenchTiming.Median(reps, () =>
    {
        using var step = NewDisposeScope();
        op();
    });
}

using SparseCircuits.Core;
using SparseCircuits.Model;
using Xunit;
using static SparseCircuits.Tests.Model.TensorAssert;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

public sealed class SparseWeightGradientTests
{
    public SparseWeightGradientTests() => TorchRuntime.EnsureInitialized();

    /// <summary>(N, width) with AbsTopK rows (k of width kept), some tokens all zero, one channel never kept.</summary>
    static Tensor TopKRows(long tokens, int width, int k, ulong seed)
    {
        Tensor v = AbsTopK.Apply(randn(tokens, width, generator: new Generator(seed, CPU)), k);
        if (tokens > 3) v[2] = zeros(width);                                  // an empty token
        if (width > 5) v[TensorIndex.Colon, 4] = zeros(tokens);               // a channel no token keeps
        return v;
    }


    /// <summary>dyᵀ x in float64, rounded: the exact sum up to float32 summation order.</summary>
    static Tensor Reference(Tensor dy, Tensor x) => dy.to(ScalarType.Float64).t().matmul(x.to(ScalarType.Float64)).to(ScalarType.Float32);

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]         // fewer tokens than a block, fewer columns than a vector
    [InlineData(65, 130, 257)]    // partial token block, partial vector and chunk
    [InlineData(200, 512, 128)]
    [InlineData(300, 96, 2048)]   // the transposed side is the cheaper one
    public void Both_sides_equal_the_dense_product(int tokens, int inFeatures, int outFeatures)
    {
        using var scope = NewDisposeScope();
        Tensor x = TopKRows(tokens, inFeatures, Math.Max(1, inFeatures / 4), 1);
        Tensor dy = TopKRows(tokens, outFeatures, Math.Max(1, outFeatures / 4), 2);
        Tensor expected = Reference(dy, x);
        Close(expected, SparseWeightGradient.Compute(dy, x, outputSide: true));
        Close(expected, SparseWeightGradient.Compute(dy, x, outputSide: false));
    }

    [Fact]
    public void A_dense_operand_is_multiplied_through()
    {
        using var scope = NewDisposeScope();
        Tensor a = TopKRows(100, 40, 10, 3), b = randn(100, 150, generator: new Generator(4, CPU));
        Close(Reference(a, b), SparseWeightGradient.OuterSum(a, b));
    }

    [Fact]
    public void Ties_in_the_kept_magnitudes_give_the_exact_gradient()
    {
        using var scope = NewDisposeScope();
        // Every magnitude equal: AbsTopK breaks the ties by channel index, and every kept entry counts.
        Tensor x = AbsTopK.Apply(ones(90, 64) * (rand(90, 64, generator: new Generator(5, CPU)) < 0.5).to(ScalarType.Float32) * 2 - 1, 16);
        Tensor dy = randn(90, 33, generator: new Generator(6, CPU));
        Close(Reference(dy, x), SparseWeightGradient.Compute(dy, x, outputSide: false));
        Close(Reference(dy, x), SparseWeightGradient.Compute(dy, x, outputSide: true));
    }

    [Fact]
    public void No_tokens_give_a_zero_gradient()
    {
        using var scope = NewDisposeScope();
        Tensor g = SparseWeightGradient.Compute(zeros(0, 12), zeros(0, 7), outputSide: true);
        Assert.Equal(new long[] { 12, 7 }, g.shape);
        Assert.Equal(0, g.count_nonzero().item<long>());
    }

    [Fact]
    public void Estimate_picks_the_sparser_operand()
    {
        using var scope = NewDisposeScope();
        Tensor x = TopKRows(300, 256, 16, 7), dy = TopKRows(300, 256, 128, 8);
        var (fill, outputSide) = SparseWeightGradient.Estimate(dy, x);
        Assert.False(outputSide);
        Assert.InRange(fill, 0.05, 1.0 / 16 + 1e-6);
        (fill, outputSide) = SparseWeightGradient.Estimate(x, dy);
        Assert.True(outputSide);
    }

    [Fact]
    public void The_sparse_sum_runs_at_AbsTopK_quarter_in_fp32_and_only_sparser_against_native_bf16()
    {
        foreach (VectorIsa isa in new[] { VectorIsa.Avx512, VectorIsa.Avx2 })
            Assert.True(0.25 <= SparseWeightGradient.MaxFill(MatmulPrecision.Fp32, isa));
        Assert.False(0.25 <= SparseWeightGradient.MaxFill(MatmulPrecision.Bf16, VectorIsa.Avx512));
        Assert.True(1.0 / 8 <= SparseWeightGradient.MaxFill(MatmulPrecision.Bf16, VectorIsa.Avx512));
        Assert.False(0.5 <= SparseWeightGradient.MaxFill(MatmulPrecision.Fp32, VectorIsa.Avx2)); // 0.8x of fp32's GEMM at about 0.3
        Assert.Equal(0, SparseWeightGradient.MaxFill(MatmulPrecision.Fp32, VectorIsa.Portable));
        Assert.Equal(SparseWeightGradient.MaxFill(MatmulPrecision.Fp32, KernelVectors.Best), SparseWeightGradient.MaxFill(MatmulPrecision.Fp32));
    }

    [Theory]
    [InlineData(MatmulPrecision.Fp32, 4)]
    [InlineData(MatmulPrecision.Bf16, 16)] // sparse enough for the sparse sum in bf16 runs: float32-exact, unlike the bf16 GEMM
    public void Linear_weight_gradient_equals_autograd_of_the_float32_linear(MatmulPrecision precision, int keepOneIn)
    {
        using var scope = NewDisposeScope();
        const int tokens = 150, inFeatures = 96, outFeatures = 80;
        Tensor w0 = randn(outFeatures, inFeatures, generator: new Generator(9, CPU)) * (rand(outFeatures, inFeatures, generator: new Generator(10, CPU)) < 0.1);
        Tensor x = TopKRows(tokens, inFeatures, inFeatures / keepOneIn, 11);
        Tensor upstream = randn(tokens, outFeatures, generator: new Generator(12, CPU));
        Tensor ws = w0.clone().requires_grad_(true), wd = w0.clone().requires_grad_(true);
        (SparseLinear.Apply(x, ws, null, SparseWeight.From(w0), precision) * upstream).sum().backward();
        (nn.functional.linear(x, wd) * upstream).sum().backward();
        Close(wd.grad!, ws.grad!);
    }
}

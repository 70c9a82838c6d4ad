using SparseCircuits.Core;
using SparseCircuits.Model;
using Xunit;
using static SparseCircuits.Tests.Model.TensorAssert;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

/// <summary>
/// Every vector form of the sparse kernels this CPU runs (AVX-512, AVX2, the portable emulated
/// one) against libtorch's dense products, with shapes that reach each form's edge cases: partial
/// token blocks and slices, rows longer than their slice (overflow), widths that are not
/// multiples of 8 or 16, chunks narrower than 64 columns.
/// </summary>
public sealed class KernelVectorsTests
{
    public KernelVectorsTests() => TorchRuntime.EnsureInitialized();

    public static TheoryData<VectorIsa> Isas()
    {
        var data = new TheoryData<VectorIsa>();
        foreach (VectorIsa isa in Enum.GetValues<VectorIsa>())
            if (isa <= KernelVectors.Best) data.Add(isa);
        return data;
    }

    public static TheoryData<VectorIsa, int, int, int> IsasAndShapes()
    {
        var data = new TheoryData<VectorIsa, int, int, int>();
        foreach (VectorIsa isa in Enum.GetValues<VectorIsa>())
        {
            if (isa > KernelVectors.Best) continue;
            data.Add(isa, 48, 80, 64);     // full blocks and slices
            data.Add(isa, 37, 130, 257);   // partial block, slice, 8-float and 16-float vectors
            data.Add(isa, 300, 512, 2048); // the target model's c_fc shape
            data.Add(isa, 16, 3, 9);       // fewer columns than a vector
        }
        return data;
    }


    /// <summary>About 1/16 of the entries nonzero, plus a full row, a half-full row and an empty row in the first slice: padding and overflow.</summary>
    static Tensor UnevenWeight(int outFeatures, int inFeatures, ulong seed)
    {
        var g = new Generator(seed, CPU);
        Tensor w = randn(outFeatures, inFeatures, generator: g) * (rand(outFeatures, inFeatures, generator: g) < 1.0 / 16);
        w[0] = randn(inFeatures, generator: g);
        if (outFeatures > 5) w[5] = randn(inFeatures, generator: g) * (rand(inFeatures, generator: g) < 0.5);
        if (outFeatures > 2) w[2] = zeros(inFeatures);
        return w;
    }

    [Theory]
    [MemberData(nameof(IsasAndShapes))]
    public void Forward_and_input_gradient_equal_the_dense_products(VectorIsa isa, int tokens, int inFeatures, int outFeatures)
    {
        using var scope = NewDisposeScope();
        using var _ = KernelVectors.Use(isa);
        Tensor w = UnevenWeight(outFeatures, inFeatures, 1);
        Tensor b = randn(outFeatures, generator: new Generator(2, CPU));
        Tensor x = randn(tokens, inFeatures, generator: new Generator(3, CPU)) * (rand(tokens, inFeatures, generator: new Generator(4, CPU)) < 0.25);
        Tensor dy = randn(tokens, outFeatures, generator: new Generator(5, CPU));
        SparseWeight layout = SparseWeight.From(w);
        Close(nn.functional.linear(x, w, b), SparseLinear.Multiply(layout.Rows, x, b));
        Close(nn.functional.linear(x, w), SparseLinear.Multiply(layout.Rows, x, bias: null));
        Close(dy.matmul(w), SparseLinear.Multiply(layout.Transposed, dy, bias: null));
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void Multiplying_the_identity_moves_every_entry_exactly(VectorIsa isa)
    {
        // One product per output value: the transposes in and out must place every entry bit for bit.
        using var scope = NewDisposeScope();
        using var _ = KernelVectors.Use(isa);
        Tensor w = UnevenWeight(50, 40, 6);
        SparseWeight layout = SparseWeight.From(w);
        Assert.True(SparseLinear.Multiply(layout.Rows, eye(40), bias: null).t().Same(w));
        Assert.True(SparseLinear.Multiply(layout.Transposed, eye(50), bias: null).Same(w));
    }

    [Theory]
    [MemberData(nameof(IsasAndShapes))]
    public void Weight_gradient_equals_the_dense_product_from_either_side(VectorIsa isa, int tokens, int inFeatures, int outFeatures)
    {
        using var scope = NewDisposeScope();
        using var _ = KernelVectors.Use(isa);
        Tensor x = AbsTopK.Apply(randn(tokens, inFeatures, generator: new Generator(7, CPU)), Math.Max(1, inFeatures / 4));
        Tensor dy = AbsTopK.Apply(randn(tokens, outFeatures, generator: new Generator(8, CPU)), Math.Max(1, outFeatures / 4));
        Tensor expected = dy.to(ScalarType.Float64).t().matmul(x.to(ScalarType.Float64)).to(ScalarType.Float32);
        Close(expected, SparseWeightGradient.Compute(dy, x, outputSide: true));
        Close(expected, SparseWeightGradient.Compute(dy, x, outputSide: false));
    }

    [Fact]
    public void Layouts_count_negative_zero_as_zero_and_NaN_and_tiny_values_as_nonzero()
    {
        using var scope = NewDisposeScope();
        // 16 entries: one vector of the nonzero scan, then 3 more in its scalar tail.
        float[] values = [0f, 1f, -0f, float.NaN, 0f, 0f, 2.5f, 0f, -1e-30f, 0f, 0f, 0f, 0f, 0f, float.PositiveInfinity, 0f, 0f, -0f, 3f];
        Tensor w = tensor(values).view(1, values.Length);
        Assert.Equal(6, SparseWeight.CountNonzeros(w));
        SparseWeight layout = SparseWeight.From(w);
        Assert.Equal([1, 3, 6, 8, 14, 18], layout.Rows.Index);
    }

    [Fact]
    public void A_scope_chooses_narrower_kernels_until_it_ends()
    {
        VectorIsa best = KernelVectors.Best;
        Assert.Equal(best, KernelVectors.Current);
        using (KernelVectors.Use(VectorIsa.Portable))
            Assert.Equal(VectorIsa.Portable, KernelVectors.Current);
        Assert.Equal(best, KernelVectors.Current);
        if (best < VectorIsa.Avx512)
            Assert.Throws<ArgumentOutOfRangeException>(() => KernelVectors.Use(VectorIsa.Avx512));
    }
}

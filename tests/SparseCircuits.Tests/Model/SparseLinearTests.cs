using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using TorchSharp;
using Xunit;
using static SparseCircuits.Tests.Model.TensorAssert;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

public sealed class SparseLinearTests
{
    public SparseLinearTests() => TorchRuntime.EnsureInitialized();

    /// <summary>A random (out, in) weight with about <paramref name="density"/> nonzeros, some rows and columns all zero.</summary>
    static Tensor SparseMatrix(int outFeatures, int inFeatures, double density, ulong seed)
    {
        var g = new Generator(seed, CPU);
        Tensor w = randn(outFeatures, inFeatures, generator: g);
        Tensor keep = rand(outFeatures, inFeatures, generator: g) < density;
        w = w * keep;
        if (outFeatures > 2) w[1] = zeros(inFeatures);                 // an empty row
        if (inFeatures > 3) w[TensorIndex.Colon, 2] = zeros(outFeatures); // an empty column
        return w;
    }

    /// <summary>x with AbsTopK-like rows: about a quarter of each token's channels nonzero.</summary>
    static Tensor SparseInput(long tokens, int width, ulong seed)
    {
        var g = new Generator(seed, CPU);
        return randn(tokens, width, generator: g) * (rand(tokens, width, generator: g) < 0.25);
    }


    [Theory]
    [InlineData(7, 5, 3, 0.5)]      // fewer tokens than a block, odd sizes
    [InlineData(16, 64, 48, 1.0 / 8)]
    [InlineData(37, 130, 257, 1.0 / 32)] // partial last block, widths not multiples of 16
    [InlineData(300, 512, 2048, 1.0 / 32)]
    [InlineData(33, 96, 96, 0.0)]   // an all-zero weight
    public void Layouts_hold_exactly_the_nonzeros_in_both_orientations(int tokens, int inFeatures, int outFeatures, double density)
    {
        using var scope = NewDisposeScope();
        _ = tokens;
        Tensor w = SparseMatrix(outFeatures, inFeatures, density, 3);
        SparseWeight layout = SparseWeight.From(w);
        Assert.Equal(w.count_nonzero().item<long>(), layout.Nonzeros);
        Assert.Equal(layout.Nonzeros, SparseWeight.CountNonzeros(w));
        Assert.True(Densify(layout.Rows).Same(w));
        Assert.True(Densify(layout.Transposed).Same(w.t()));
    }

    static Tensor Densify(CompressedRows a)
    {
        // Multiplying the identity by Aᵀ gives Aᵀ (exact: one product per entry).
        Tensor dense = SparseLinear.Multiply(a, eye(a.Columns), bias: null); // (columns, rows) = Aᵀ
        return dense.t();
    }

    [Theory]
    [InlineData(1, 1, 1, 1.0)]
    [InlineData(7, 5, 3, 0.5)]
    [InlineData(16, 64, 48, 1.0 / 8)]
    [InlineData(37, 130, 257, 1.0 / 32)]
    [InlineData(300, 512, 2048, 1.0 / 32)]
    [InlineData(129, 2048, 512, 1.0 / 16)]
    public void Forward_equals_dense_linear(int tokens, int inFeatures, int outFeatures, double density)
    {
        using var scope = NewDisposeScope();
        Tensor w = SparseMatrix(outFeatures, inFeatures, density, 11);
        Tensor b = randn(outFeatures, generator: new Generator(12, CPU));
        Tensor x = SparseInput(tokens, inFeatures, 13);
        SparseWeight layout = SparseWeight.From(w);
        Close(nn.functional.linear(x, w, b), SparseLinear.Apply(x, w, b, layout, MatmulPrecision.Fp32));
        Close(nn.functional.linear(x, w), SparseLinear.Apply(x, w, null, layout, MatmulPrecision.Fp32));
    }

    [Theory]
    [InlineData(48, 64)]  // full token blocks and full slices: the in-register transposes
    [InlineData(37, 70)]  // partial ones
    public void Forward_and_input_gradient_are_exact_with_very_uneven_rows(int tokens, int outFeatures)
    {
        using var scope = NewDisposeScope();
        // Row lengths from 0 to all 80 columns in the same slices: padding and overflow entries.
        const int inFeatures = 80;
        Tensor w = SparseMatrix(outFeatures, inFeatures, 1.0 / 16, 71);
        w[0] = randn(inFeatures, generator: new Generator(72, CPU));
        w[5] = randn(inFeatures, generator: new Generator(73, CPU)) * (rand(inFeatures, generator: new Generator(74, CPU)) < 0.5);
        w[17] = randn(inFeatures, generator: new Generator(75, CPU));
        Tensor b = randn(outFeatures, generator: new Generator(76, CPU));
        Tensor x = SparseInput(tokens, inFeatures, 77);
        Tensor dy = randn(tokens, outFeatures, generator: new Generator(78, CPU));
        SparseWeight layout = SparseWeight.From(w);
        Close(nn.functional.linear(x, w, b), SparseLinear.Multiply(layout.Rows, x, b));
        Close(dy.matmul(w), SparseLinear.Multiply(layout.Transposed, dy, bias: null));
    }

    [Fact]
    public void Forward_reads_strided_and_batched_inputs()
    {
        using var scope = NewDisposeScope();
        Tensor w = SparseMatrix(40, 24, 0.2, 21);
        Tensor b = randn(40, generator: new Generator(22, CPU));
        Tensor x = randn(3, 24, 11, generator: new Generator(23, CPU)).transpose(1, 2); // (3, 11, 24), not contiguous
        Assert.False(x.is_contiguous());
        Tensor y = SparseLinear.Apply(x, w, b, SparseWeight.From(w), MatmulPrecision.Fp32);
        Assert.Equal(new long[] { 3, 11, 40 }, y.shape);
        Close(nn.functional.linear(x, w, b), y);
    }

    [Fact]
    public void Zero_tokens_give_an_empty_result()
    {
        using var scope = NewDisposeScope();
        Tensor w = SparseMatrix(8, 4, 0.5, 31);
        Tensor y = SparseLinear.Apply(zeros(0, 4), w, null, SparseWeight.From(w), MatmulPrecision.Fp32);
        Assert.Equal(new long[] { 0, 8 }, y.shape);
    }

    [Theory]
    [InlineData(7, 5, 3, 0.5)]
    [InlineData(37, 130, 257, 1.0 / 32)]
    [InlineData(200, 512, 512, 1.0 / 32)]
    public void Gradients_of_input_weight_and_bias_equal_dense_linear(int tokens, int inFeatures, int outFeatures, double density)
    {
        using var scope = NewDisposeScope();
        Tensor w0 = SparseMatrix(outFeatures, inFeatures, density, 41);
        Tensor b0 = randn(outFeatures, generator: new Generator(42, CPU));
        Tensor x0 = SparseInput(tokens, inFeatures, 43).view(1, tokens, inFeatures);
        Tensor upstream = randn(1, tokens, outFeatures, generator: new Generator(44, CPU));

        (Tensor y, Tensor dx, Tensor dw, Tensor db) Run(bool sparse)
        {
            Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
            Tensor y = sparse ? SparseLinear.Apply(x, w, b, SparseWeight.From(w0), MatmulPrecision.Fp32) : nn.functional.linear(x, w, b);
            (y * upstream).sum().backward();
            return (y.detach(), x.grad!, w.grad!, b.grad!);
        }

        var dense = Run(sparse: false);
        var sparse = Run(sparse: true);
        Close(dense.y, sparse.y);
        Close(dense.dx, sparse.dx);
        Close(dense.dw, sparse.dw);
        Close(dense.db, sparse.db);
        // dW is dense: entries where W is zero get their gradient too.
        Assert.True((sparse.dw * (w0 == 0)).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Input_gradient_flows_through_frozen_weights()
    {
        using var scope = NewDisposeScope();
        Tensor w = SparseMatrix(64, 48, 1.0 / 8, 51);
        Tensor b = randn(64, generator: new Generator(52, CPU));
        Tensor x0 = SparseInput(40, 48, 53);
        Tensor xs = x0.clone().requires_grad_(true), xd = x0.clone().requires_grad_(true);
        SparseLinear.Apply(xs, w, b, SparseWeight.From(w), MatmulPrecision.Fp32).square().sum().backward();
        nn.functional.linear(xd, w, b).square().sum().backward();
        Close(xd.grad!, xs.grad!);
        Assert.Null(w.grad);
    }

    [Fact]
    public void Bf16_weight_gradient_matches_the_dense_bf16_path()
    {
        using var scope = NewDisposeScope();
        Tensor w0 = SparseMatrix(96, 64, 1.0 / 8, 61);
        Tensor x0 = SparseInput(50, 64, 62);
        Tensor ws = w0.clone().requires_grad_(true), wd = w0.clone().requires_grad_(true);
        SparseLinear.Apply(x0, ws, null, SparseWeight.From(w0), MatmulPrecision.Bf16).sum().backward();
        nn.functional.linear(x0.to(ScalarType.BFloat16), wd.to(ScalarType.BFloat16)).to(ScalarType.Float32).sum().backward();
        Close(wd.grad!, ws.grad!, tolerance: 1e-2);
    }

    [Fact]
    public void Model_outputs_and_gradients_match_across_kernels()
    {
        using var scope = NewDisposeScope();
        ModelConfig config = TestModels.AllOptions();
        using SparseGpt dense = TestModels.Create(config), sparse = TestModels.Create(config);
        foreach (SparseGpt m in new[] { dense, sparse })
            Trainer.Project(m.DescribeParameters(), new TrainingConfig { Model = config, WeightDensity = 0.25, EmbeddingDensity = 0.5, Steps = 1, AnnealFraction = 0 }, 0);
        dense.LinearKernels = LinearKernels.Dense;
        sparse.LinearKernels = LinearKernels.Sparse;
        Tensor tokens = TestModels.Tokens(3, 16);
        Tensor ld = dense.forward(tokens), ls = sparse.forward(tokens);
        Close(ld, ls, 1e-4);
        ld.square().mean().backward();
        ls.square().mean().backward();
        var sparseGrads = sparse.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        foreach (var (name, p) in dense.named_parameters())
            Close(p.grad!, sparseGrads[name]!, 1e-4);
    }

    [Fact]
    public void Without_a_cache_scope_every_forward_sees_the_current_weights()
    {
        using var scope = NewDisposeScope();
        ModelConfig config = TestModels.Tiny();
        using SparseGpt model = TestModels.Create(config);
        model.LinearKernels = LinearKernels.Sparse;
        Tensor tokens = TestModels.Tokens(2, 16);
        Tensor before = model.forward(tokens);
        Tensor w = model.get_parameter("transformer.h.0.mlp.c_fc.weight")!;
        using (no_grad()) w.mul_(2);
        Tensor after = model.forward(tokens);
        model.LinearKernels = LinearKernels.Dense;
        Close(model.forward(tokens), after, 1e-4);
        Assert.False(before.allclose(after));
    }

    [Fact]
    public void A_cache_scope_reuses_layouts_until_it_ends()
    {
        using var scope = NewDisposeScope();
        using SparseGpt model = TestModels.Create(TestModels.Tiny());
        model.LinearKernels = LinearKernels.Sparse;
        Tensor tokens = TestModels.Tokens(2, 16);
        Tensor w = model.get_parameter("transformer.h.0.mlp.c_fc.weight")!;
        Tensor original;
        Tensor cached;
        using (model.CacheSparseLayouts())
        {
            original = model.forward(tokens);
            using (no_grad()) w.mul_(2);
            cached = model.forward(tokens);
        }
        Assert.True(original.Same(cached)); // the layout of the weights at the first call
        Assert.False(model.forward(tokens).allclose(original)); // rebuilt after the scope
    }

    [Fact]
    public void Auto_follows_the_crossover_measured_for_each_vector_form()
    {
        Assert.False(LinearKernelChoice.PrefersSparse(512, 2048, 1.0, 4096, MatmulPrecision.Fp32));
        Assert.False(LinearKernelChoice.PrefersSparse(512, 2048, 1.0 / 32, 1, MatmulPrecision.Fp32)); // one token: not worth a layout
        // AVX-512: fp32 dense trained faster at 128 and 1/8; bf16 dense won at width 128 and above 1/32 at 256.
        Assert.Equal(1.0 / 8, LinearKernelChoice.CrossoverDensity(512, MatmulPrecision.Fp32, VectorIsa.Avx512));
        Assert.Equal(1.0 / 16, LinearKernelChoice.CrossoverDensity(128, MatmulPrecision.Fp32, VectorIsa.Avx512));
        Assert.Equal(0, LinearKernelChoice.CrossoverDensity(128, MatmulPrecision.Bf16, VectorIsa.Avx512));
        Assert.Equal(1.0 / 32, LinearKernelChoice.CrossoverDensity(256, MatmulPrecision.Bf16, VectorIsa.Avx512));
        Assert.Equal(1.0 / 16, LinearKernelChoice.CrossoverDensity(1024, MatmulPrecision.Bf16, VectorIsa.Avx512));
        // AVX2: sparse at every density from width 256, from 1/32 at 128.
        Assert.Equal(1.0 / 8, LinearKernelChoice.CrossoverDensity(256, MatmulPrecision.Fp32, VectorIsa.Avx2));
        Assert.Equal(1.0 / 32, LinearKernelChoice.CrossoverDensity(128, MatmulPrecision.Fp32, VectorIsa.Avx2));
        Assert.Equal(0, LinearKernelChoice.CrossoverDensity(1024, MatmulPrecision.Fp32, VectorIsa.Portable));
        // This CPU follows its own vector form, and a narrower scope follows that one's.
        Assert.Equal(KernelVectors.Best != VectorIsa.Portable, LinearKernelChoice.PrefersSparse(512, 2048, 1.0 / 32, 4096, MatmulPrecision.Fp32));
        using (KernelVectors.Use(VectorIsa.Portable))
            Assert.False(LinearKernelChoice.PrefersSparse(512, 2048, 1.0 / 32, 4096, MatmulPrecision.Fp32));
    }
}

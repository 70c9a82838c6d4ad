using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tests.Model;
using SparseCircuits.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class WeightSparsityTests
{
    public WeightSparsityTests() => TorchRuntime.EnsureInitialized();

    static long Nonzeros(Tensor t) => t.count_nonzero().item<long>();

    [Theory]
    [InlineData(1000, 0.5, 500)]
    [InlineData(1000, 0.0005, 1)]    // round(0.5) away from zero, and at least 1 anyway
    [InlineData(1000, 0.0001, 1)]    // at least 1
    [InlineData(999, 0.5, 500)]      // 499.5 rounds up
    [InlineData(7, 1.0, 7)]
    public void Target_is_rounded_density_times_size_at_least_one(long numel, double density, long expected) =>
        Assert.Equal(expected, WeightSparsity.TargetNonzeros(numel, density));

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Density_outside_0_1_is_a_user_error(double density) =>
        Assert.Contains("(0, 1]", Assert.Throws<SparseCircuitsException>(() => WeightSparsity.TargetNonzeros(10, density)).Message);

    [Fact]
    public void Exact_support_for_many_random_matrices_and_densities()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(42, CPU);
        var rng = new Random(42);
        foreach (NeuronAxis axis in Enum.GetValues<NeuronAxis>())
            foreach (int j in new[] { 0, 1, 4 })
                for (int trial = 0; trial < 12; trial++)
                {
                    int rows = rng.Next(1, 70), cols = rng.Next(1, 70);
                    double density = new[] { 1.0, 0.5, 0.1, 1.0 / 64, 1e-3, rng.NextDouble() }[trial % 6];
                    var w = randn(rows, cols, generator: g);
                    long target = WeightSparsity.TargetNonzeros(w.numel(), density);
                    long neurons = axis == NeuronAxis.Rows ? rows : cols, fan = axis == NeuronAxis.Rows ? cols : rows;
                    long forced = axis == NeuronAxis.None ? 0 : neurons * Math.Min(j, fan);
                    long expected = Math.Min(w.numel(), Math.Max(target, forced));

                    long support = WeightSparsity.Project(w, target, j, axis);
                    string what = $"{rows}x{cols} density {density} j {j} axis {axis}";
                    Assert.True(expected == support, what);
                    Assert.True(expected == Nonzeros(w), what);
                    if (axis != NeuronAxis.None && j > 0)
                    {
                        var perNeuron = w.ne(0).sum(axis == NeuronAxis.Rows ? 1 : 0);
                        Assert.True(perNeuron.ge(Math.Min(j, fan)).all().item<bool>(), what);
                    }
                }
    }

    [Fact]
    public void Without_the_j_rule_it_keeps_the_global_top_k_magnitudes()
    {
        using var scope = NewDisposeScope();
        var w = randn(40, 30, generator: new Generator(1, CPU));
        var before = w.abs().clone();
        WeightSparsity.Project(w, 100, minPerNeuron: 0);
        var kept = w.ne(0);
        Assert.Equal(100, kept.sum().item<long>());
        Assert.True(before.masked_select(kept).min().item<float>() >= before.masked_select(kept.logical_not()).max().item<float>());
        var original = randn(40, 30, generator: new Generator(1, CPU));
        Assert.True(original.masked_select(kept).Same(w.masked_select(kept)));
    }

    [Fact]
    public void J_rule_keeps_each_neurons_largest_then_fills_globally()
    {
        using var scope = NewDisposeScope();
        // Row 0 holds all the large weights; rows 1..3 would die without the rule.
        var w = tensor(new float[]
        {
            9, 8, 7, 6,
            0.1f, 0.4f, 0.3f, 0.2f,
            -0.5f, 0.01f, 0.02f, 0.03f,
            0.05f, 0.06f, -0.07f, 0.04f,
        }).view(4, 4);
        long support = WeightSparsity.Project(w, target: 6, minPerNeuron: 1, axis: NeuronAxis.Rows);
        Assert.Equal(6, support);
        Assert.Equal(new float[]
        {
            9, 8, 7, 0,
            0, 0.4f, 0, 0,
            -0.5f, 0, 0, 0,
            0, 0, -0.07f, 0,
        }, w.data<float>().ToArray());

        var cols = tensor(new float[] { 5, 0.1f, 4, 0.2f, 3, 0.3f }).view(3, 2); // neurons are columns
        WeightSparsity.Project(cols, target: 1, minPerNeuron: 1, axis: NeuronAxis.Columns);
        Assert.Equal(new float[] { 5, 0, 0, 0, 0, 0.3f }, cols.data<float>().ToArray()); // j * neurons = 2 > target wins
    }

    [Fact]
    public void Ties_are_broken_by_index_and_results_are_deterministic()
    {
        using var scope = NewDisposeScope();
        var w = ones(6, 5);
        WeightSparsity.Project(w, 7, minPerNeuron: 0);
        Assert.Equal(new float[] { 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, w.view(-1).narrow(0, 0, 10).data<float>().ToArray());
        Assert.Equal(7, Nonzeros(w));

        var g = new Generator(9, CPU);
        var coarse = (randn(64, 48, generator: g) * 3).round(); // many ties
        var a = coarse.clone();
        var b = coarse.clone();
        Assert.Equal(WeightSparsity.Project(a, 300, 4, NeuronAxis.Columns), WeightSparsity.Project(b, 300, 4, NeuronAxis.Columns));
        Assert.True(a.Same(b));
    }

    [Fact]
    public void Support_counts_kept_exact_zeros()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 0, 0, 0, 0, 3, 0 }).view(2, 3);
        Assert.Equal(2, WeightSparsity.Project(w, 2, minPerNeuron: 0));
        Assert.Equal(1, Nonzeros(w)); // the second kept slot holds a zero
    }

    [Fact]
    public void Projection_is_in_place_on_parameters_and_outside_autograd()
    {
        using var scope = NewDisposeScope();
        using var model = new SparseGpt(TestModels.Tiny(), new Generator(3, CPU));
        var p = model.SparseMatrices().First(m => m.Kind == ParameterKind.Matrix);
        WeightSparsity.Project(p.Tensor, 10, 0);
        Assert.Equal(10, Nonzeros(p.Tensor));
        Assert.True(p.Tensor.requires_grad);
        Assert.Null(p.Tensor.grad);
        Assert.Equal(10 / (double)p.Tensor.numel(), WeightSparsity.Density(p.Tensor), 12);
    }

    [Fact]
    public void Model_projection_applies_densities_and_exempts_embeddings_from_the_j_rule()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.Tiny() with { VocabSize = 300, PositionalEmbedding = PositionalEmbedding.Learned };
        using var model = new SparseGpt(c, new Generator(4, CPU));
        var supports = WeightSparsity.ProjectModel(model, matrixDensity: 0.01, embeddingDensity: 0.02, minPerNeuron: 4);

        foreach (ModelParameter p in model.SparseMatrices())
        {
            long n = Nonzeros(p.Tensor);
            Assert.Equal(supports[p.Name], n);
            if (p.Kind == ParameterKind.Embedding)
            {
                // Exactly the target, even though most rows end up empty: no per-neuron rule.
                Assert.Equal(WeightSparsity.TargetNonzeros(p.Tensor.numel(), 0.02), n);
                Assert.True(p.Tensor.ne(0).sum(1).eq(0).any().item<bool>(), p.Name);
            }
            else
            {
                int dim = p.NeuronAxis == NeuronAxis.Rows ? 1 : 0;
                Assert.True(p.Tensor.ne(0).sum(dim).ge(4).all().item<bool>(), p.Name);
                long neurons = p.Tensor.shape[1 - dim];
                Assert.Equal(Math.Max(WeightSparsity.TargetNonzeros(p.Tensor.numel(), 0.01), 4 * neurons), n);
            }
        }
        Assert.Equal(3 + 4 * c.NLayer, supports.Count);
        Assert.Equal(c.DModel, Nonzeros(model.state_dict()["transformer.ln_f.weight"])); // dense parameters untouched
    }
}

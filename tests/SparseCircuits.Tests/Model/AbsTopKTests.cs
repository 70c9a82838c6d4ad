using SparseCircuits.Core;
using SparseCircuits.Model;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

public sealed class AbsTopKTests
{
    public AbsTopKTests() => TorchRuntime.EnsureInitialized();

    [Theory]
    [InlineData(0.125, 512, 64)]
    [InlineData(0.29, 100, 29)]   // 0.29 * 100 is 28.999... in doubles
    [InlineData(0.25, 10, 2)]     // floor
    [InlineData(0.01, 10, 1)]     // at least one
    [InlineData(0.999, 10, 9)]
    public void K_is_floor_of_fraction_times_width_at_least_one(double fraction, int width, int expected) =>
        Assert.Equal(expected, AbsTopK.K(fraction, width));

    [Fact]
    public void K_is_null_when_off_or_keeping_everything()
    {
        Assert.Null(AbsTopK.K(null, 10));
        Assert.Null(AbsTopK.K(1.0, 10));
    }

    [Fact]
    public void Keeps_the_k_largest_magnitudes_per_row_with_sign()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 0.1f, -3f, 2f, -0.5f, 1f, 0f, -7f, 4f }).view(2, 4);
        var y = AbsTopK.Apply(x, 2);
        Assert.Equal(new float[] { 0f, -3f, 2f, 0f, 0f, 0f, -7f, 4f }, y.data<float>().ToArray());
    }

    [Fact]
    public void Ties_go_to_the_lower_index()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1f, -1f, 1f, 0.5f, /**/ 2f, 2f, 2f, 2f, /**/ 0f, 0f, 0f, 3f }).view(3, 4);
        var y = AbsTopK.Apply(x, 2);
        Assert.Equal(new float[] { 1f, -1f, 0f, 0f, 2f, 2f, 0f, 0f, 0f, 0f, 0f, 3f }, y.data<float>().ToArray());
        // Which zeros are kept shows in the gradient: the first tied zero.
        var z = tensor(new float[] { 0f, 0f, 0f, 3f }, requires_grad: true);
        AbsTopK.Apply(z, 2).sum().backward();
        Assert.Equal(new float[] { 1f, 0f, 0f, 1f }, z.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Edge_rows_in_float64()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 5, 5, 5, 5, /**/ 0, 0, 0, 0, /**/ -1e-300, 1e-300, 2e-300, 0, /**/ 1, 2, 3, 4 }).view(4, 4);
        Assert.Equal(new double[] { 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2e-300, 0, 0, 0, 0, 4 }, AbsTopK.Apply(x, 1).data<double>().ToArray());
        Assert.Equal(ScalarType.Float64, AbsTopK.Apply(x, 3).dtype);
        Assert.Equal(new double[] { 5, 5, 5, 0, 0, 0, 0, 0, -1e-300, 1e-300, 2e-300, 0, 0, 2, 3, 4 }, AbsTopK.Apply(x, 3).data<double>().ToArray());
    }

    [Fact]
    public void Exactly_k_per_row_and_matches_a_sort_based_reference()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3, CPU);
        // Rounded values make ties frequent.
        var x = (randn(6, 5, 40, generator: g) * 4).round() / 4;
        var y = AbsTopK.Apply(x, 7);
        float[] xs = x.data<float>().ToArray(), ys = y.data<float>().ToArray();
        for (int row = 0; row < 30; row++)
        {
            var order = Enumerable.Range(0, 40).OrderByDescending(i => Math.Abs(xs[row * 40 + i])).ThenBy(i => i).Take(7).ToHashSet();
            for (int i = 0; i < 40; i++)
                Assert.Equal(order.Contains(i) ? xs[row * 40 + i] : 0f, ys[row * 40 + i]);
        }
    }

    [Fact]
    public void Gradient_flows_only_through_kept_entries()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(4, CPU);
        var x = randn(3, 16, generator: g).requires_grad_();
        var w = randn(3, 16, generator: g);
        var y = AbsTopK.Apply(x, 4);
        (y * w).sum().backward();
        var kept = y.detach() != 0;
        Assert.True(x.grad!.Same(w.masked_fill(kept.logical_not(), 0)));
        Assert.Equal(12L, kept.sum().item<long>());
    }

    [Fact]
    public void Is_deterministic_and_does_not_touch_its_input()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 8, 32, generator: new Generator(5, CPU));
        var before = x.clone();
        Assert.True(AbsTopK.Apply(x, 5).Same(AbsTopK.Apply(x, 5)));
        Assert.True(x.Same(before));
        Assert.Same(x, AbsTopK.Apply(x, null));
        Assert.Same(x, AbsTopK.Apply(x, 32));
    }

    /// <summary>The fused kernel (selection + zeroing forward, zeroing backward) against masked_fill with the libtorch selection.</summary>
    [Theory]
    [InlineData(1), InlineData(15), InlineData(16), InlineData(17), InlineData(128), InlineData(512)]
    public void Fused_forward_and_backward_equal_masked_fill_of_the_reference_selection(int width)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)width + 11, CPU);
        Tensor values = (randn(600, width, generator: g) * 2).round() / 2; // ties and exact zeros
        values[0] = zeros(width);                                            // a row of zeros: kept zeros still get gradient
        Tensor upstream = randn(600, width, generator: g);
        int k = Math.Max(1, width / 8);
        foreach (Tensor input in new[] { values, values.t().contiguous().t() }) // contiguous and strided
        {
            Tensor fusedX = input.clone().requires_grad_(), referenceX = input.clone().requires_grad_();
            Tensor fused = AbsTopK.Apply(fusedX, k);
            Tensor reference = referenceX.masked_fill(TopKMask.Reference(referenceX.detach(), k, byMagnitude: true), 0.0);
            (fused * upstream).sum().backward();
            (reference * upstream).sum().backward();
            Assert.True(fused.Same(reference), $"forward, width {width}");
            Assert.True(fusedX.grad!.Same(referenceX.grad!), $"backward, width {width}");
            using (no_grad()) Assert.True(AbsTopK.Apply(input, k).Same(reference), $"no-grad path, width {width}");
        }
    }

    [Fact]
    public void Zeroing_of_a_gradient_matches_masked_fill_on_any_layout_and_dtype()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(12, CPU);
        Tensor drop = rand(33, 40, generator: g) < 0.7;
        Tensor values = randn(40, 33, generator: g).t(); // strided
        Assert.True(TopKMask.ZeroDropped(values, drop).Same(values.masked_fill(drop, 0.0)));
        Tensor doubles = values.to(ScalarType.Float64);
        Assert.True(TopKMask.ZeroDropped(doubles, drop).Same(doubles.masked_fill(drop, 0.0)));
    }
}

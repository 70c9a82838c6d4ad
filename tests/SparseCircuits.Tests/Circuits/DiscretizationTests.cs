using CsCheck;
using SparseCircuits.Circuits;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The search for the smallest k: coarse grid, then bisection.</summary>
public sealed class DiscretizationTests
{
    [Fact]
    public void Bisection_finds_the_smallest_passing_k_on_a_monotone_curve()
    {
        Gen.Select(Gen.Int[1, 6000], Gen.Int[0, 6000]).Where((n, answer) => answer <= n).Sample((n, answer) =>
        {
            var calls = new HashSet<int>();
            int evaluations = 0;
            // A smooth decreasing curve that crosses the target exactly between answer - 1 and answer.
            double Loss(int k)
            {
                evaluations++;
                Assert.True(calls.Add(k), $"k = {k} evaluated twice");
                return k >= answer ? 0.15 - 0.1 * (k - answer) / (n + 1.0) : 0.15 + 0.01 + (answer - k);
            }
            Assert.Equal(answer, Discretization.SmallestPassing(n, Loss, 0.15));
            Assert.True(evaluations <= 2 * Math.Ceiling(Math.Log2(n + 1)) + 3, $"{evaluations} evaluations for n = {n}");
        });
    }

    [Fact]
    public void A_dip_below_the_target_far_below_all_nodes_is_found()
    {
        // Mean ablation often makes the curve non-monotone: the circuit beats the full model, and
        // the loss rises again as noisy nodes come back. A plain bisection over [0, n] would land at 4000.
        double Loss(int k) => k is >= 100 and <= 600 ? 0.1 : k >= 4000 ? 0.14 : 0.3;
        Assert.Equal(100, Discretization.SmallestPassing(5000, Loss, 0.15));
        Assert.Equal(2501, Discretization.Bisect(0, 5000, k => k > 2500 ? 0.1 : 0.3, 0.15));
    }

    [Fact]
    public void Bisection_examples()
    {
        Assert.Equal(0, Discretization.SmallestPassing(10, _ => 0.1, 0.15));
        Assert.Equal(10, Discretization.SmallestPassing(10, k => k == 10 ? 0.1 : 1, 0.15));
        Assert.Equal(4, Discretization.SmallestPassing(60, k => k >= 4 ? 0 : 0.7, 0.15));
        Assert.Equal(new[] { 0, 1, 2, 4, 8, 10 }, Discretization.CoarseGrid(10));
        Assert.Equal(new[] { 0, 1, 2, 4, 8 }, Discretization.CoarseGrid(8));
        Assert.Equal(new[] { 0 }, Discretization.CoarseGrid(0));
    }
}

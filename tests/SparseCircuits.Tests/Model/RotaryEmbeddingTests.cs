using SparseCircuits.Core;
using SparseCircuits.Model;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

public sealed class RotaryEmbeddingTests
{
    public RotaryEmbeddingTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Rotates_channel_pairs_by_position_times_frequency()
    {
        // d_head 4: pairs (0, 2) at frequency 1 and (1, 3) at 10000^(-1/2) = 0.01.
        using var scope = NewDisposeScope();
        var rotary = new RotaryEmbedding(nCtx: 8, dHead: 4);
        var x = tensor(new double[] { 1, 2, 3, 4, /**/ 1, 2, 3, 4 }).view(1, 1, 2, 4); // positions 0 and 1
        double[] y = rotary.Apply(x).contiguous().data<double>().ToArray();
        Assert.Equal([1, 2, 3, 4], y[..4]); // position 0: angle 0
        double c1 = Math.Cos(1), s1 = Math.Sin(1), c2 = Math.Cos(0.01), s2 = Math.Sin(0.01);
        double[] expected = [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], y[4 + i], 12);
        // A start offset reads the table from that position.
        double[] shifted = rotary.Apply(x.narrow(2, 1, 1), start: 1).contiguous().data<double>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], shifted[i], 12);
    }

    [Fact]
    public void Scores_depend_only_on_the_distance_between_positions_and_norms_are_kept()
    {
        using var scope = NewDisposeScope();
        var rotary = new RotaryEmbedding(nCtx: 32, dHead: 16);
        var g = new Generator(3, CPU);
        var q = randn(new long[] { 1, 1, 1, 16 }, ScalarType.Float64, generator: g);
        var k = randn(new long[] { 1, 1, 1, 16 }, ScalarType.Float64, generator: g);
        double Score(int i, int j) => (rotary.Apply(q, i) * rotary.Apply(k, j)).sum().item<double>();
        Assert.Equal(Score(7, 4), Score(20, 17), 10);
        Assert.Equal(Score(3, 3), (q * k).sum().item<double>(), 10);
        Assert.NotEqual(Score(7, 4), Score(7, 5), 3);
        Assert.Equal(q.norm().item<double>(), rotary.Apply(q, 11).norm().item<double>(), 10);
    }

    [Fact]
    public void Odd_head_width_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new RotaryEmbedding(8, 5));
    }
}

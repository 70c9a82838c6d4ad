using SparseCircuits.Core;
using SparseCircuits.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class RngStateTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // First outputs of the reference splitmix64.c for seed 0.
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void Saved_state_resumes_the_same_sequence()
    {
        var rng = new SplitMix64(12345);
        for (int i = 0; i < 10; i++) rng.NextUInt64();
        ulong saved = rng.State;
        ulong[] expected = Enumerable.Range(0, 5).Select(_ => rng.NextBelow(1000)).ToArray();

        var resumed = new SplitMix64(0) { State = saved };
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => resumed.NextBelow(1000)).ToArray());
    }

    [Fact]
    public void Bounded_draws_stay_in_range()
    {
        var rng = new SplitMix64(1);
        var counts = new int[7];
        for (int i = 0; i < 7000; i++) counts[rng.NextBelow(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
        Assert.Equal(0UL, rng.NextBelow(1));
        Assert.InRange(rng.NextBelow(ulong.MaxValue), 0UL, ulong.MaxValue - 1);
        for (int i = 0; i < 100; i++) Assert.InRange(rng.NextDouble(), 0.0, 0.9999999999999999);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextBelow(0));
    }

    [Fact]
    public void Torch_generator_state_round_trips()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(42);
        torch.randn(3, generator: generator);
        string saved = TorchRngState.Capture(generator);
        Tensor first = torch.randn(5, generator: generator);

        TorchRngState.Restore(saved, generator);
        Assert.True(Bits.Identical(first, torch.randn(5, generator: generator)));

        Assert.Throws<SparseCircuitsException>(() => TorchRngState.Restore("not base64!", generator));
        Assert.Throws<SparseCircuitsException>(() => TorchRngState.Restore(Convert.ToBase64String(new byte[3]), generator));
    }
}

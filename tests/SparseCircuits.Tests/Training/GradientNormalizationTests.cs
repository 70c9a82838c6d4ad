using SparseCircuits.Core;
using SparseCircuits.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class GradientNormalizationTests
{
    public GradientNormalizationTests() => TorchRuntime.EnsureInitialized();

    /// <summary>Two parameters with gradients a = [4s, 0, 0, 0] and b = 3x2 of 2s: sum of squares 40 s^2 over 10 entries, RMS 2s.</summary>
    static Parameter[] Parameters(float s)
    {
        var a = new Parameter(torch.zeros(4));
        var b = new Parameter(torch.zeros(3, 2));
        AdamWithDecoupledDecayTests.SetGrad(a, torch.tensor(new[] { 4 * s, 0, 0, 0 }));
        AdamWithDecoupledDecayTests.SetGrad(b, torch.full(3, 2, 2 * s));
        return [a, b];
    }

    [Theory]
    [InlineData(GradientNormalization.None, 1f, 2.0, 1f)]
    [InlineData(GradientNormalization.NormalizeRms, 1f, 2.0, 0.5f)]
    [InlineData(GradientNormalization.ClipRms, 1f, 2.0, 0.5f)]
    [InlineData(GradientNormalization.None, 0.1f, 0.2, 1f)]
    [InlineData(GradientNormalization.NormalizeRms, 0.1f, 0.2, 5f)]
    [InlineData(GradientNormalization.ClipRms, 0.1f, 0.2, 1f)]
    public void Scales_by_global_RMS_and_reports_it_before_scaling(GradientNormalization mode, float s, double expectedRms, float expectedScale)
    {
        using var scope = torch.NewDisposeScope();
        Parameter[] ps = Parameters(s);

        double rms = GradientNormalizer.Apply(ps, mode);

        Assert.Equal(expectedRms, rms, 6);
        Assert.Equal(new[] { 4 * s * expectedScale, 0, 0, 0 }, ps[0].grad!.data<float>().ToArray(), new FloatTolerance(1e-6f));
        Assert.All(ps[1].grad!.data<float>().ToArray(), g => Assert.Equal(2 * s * expectedScale, g, 1e-6f));
    }

    [Fact]
    public void Normalised_gradients_have_RMS_one()
    {
        using var scope = torch.NewDisposeScope();
        Parameter[] ps = Parameters(0.37f);
        GradientNormalizer.Apply(ps, GradientNormalization.NormalizeRms);
        Assert.Equal(1.0, GradientNormalizer.Apply(ps, GradientNormalization.None), 6);
    }

    [Fact]
    public void Parameters_without_gradients_are_not_counted()
    {
        using var scope = torch.NewDisposeScope();
        Parameter[] ps = [.. Parameters(1f), new Parameter(torch.zeros(100))];
        Assert.Equal(2.0, GradientNormalizer.Apply(ps, GradientNormalization.None), 6);
    }

    [Fact]
    public void Zero_gradient_is_left_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        Parameter[] ps = Parameters(0f);
        Assert.Equal(0.0, GradientNormalizer.Apply(ps, GradientNormalization.NormalizeRms));
        Assert.All(ps[1].grad!.data<float>().ToArray(), g => Assert.Equal(0f, g));
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}

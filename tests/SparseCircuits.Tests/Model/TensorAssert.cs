using TorchSharp;
using Xunit;

namespace SparseCircuits.Tests.Model;

static class TensorAssert
{
    /// <summary>Equal shapes and every entry within <paramref name="tolerance"/> x max(1, max |expected|): float summation order only.</summary>
    public static void Close(torch.Tensor expected, torch.Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = Math.Max(1, expected.abs().max().item<float>());
        double error = (expected - actual).abs().max().item<float>();
        Assert.True(error <= tolerance * scale, $"max error {error} above {tolerance} x {scale}");
    }
}

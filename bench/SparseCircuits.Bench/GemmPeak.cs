using System.Diagnostics;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// This machine's practical fp32 peak: GFLOP/s of a large square matmul (libtorch's GEMM on all
/// threads), best of several. Benchmarks divide by it so their percentages compare across
/// machines and machine states; a nominal cores x GHz x FLOP/cycle figure ignores turbo, AVX-512
/// clocks and whatever else runs.
/// </summary>
static class GemmPeak
{
    public static double Measure(int n = 2048, int repeats = 8, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor a = randn(n, n).to(dtype), b = randn(n, n).to(dtype);
        double best = double.MaxValue;
        for (int i = 0; i < repeats + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            a.mm(b).Dispose();
            double seconds = clock.Elapsed.TotalSeconds;
            if (i >= 2) best = Math.Min(best, seconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}

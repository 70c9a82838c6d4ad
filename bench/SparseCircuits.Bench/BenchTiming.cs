using System.Diagnostics;

namespace SparseCircuits.Bench;

static class BenchTiming
{
    /// <summary>Median seconds of <paramref name="repeats"/> calls after two warm-up calls.</summary>
    public static double Median(int repeats, Action action)
    {
        action();
        action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}

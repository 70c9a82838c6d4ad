using TorchSharp;

namespace SparseCircuits.Core;

/// <summary>
/// Splits the rows of a C# tensor kernel into contiguous ranges, one per worker, using as many
/// workers as libtorch has threads on the calling thread (one inside a training stream, see
/// BatchStreams), and only when each gets enough work to pay for the hand-off.
/// </summary>
public static class RowParallel
{
    /// <summary>Below this many elements per worker, a second thread costs more than it saves.</summary>
    public const long MinElementsPerWorker = 1 << 15;

    /// <summary>Calls <paramref name="range"/>(first, end) over [0, rows), split across workers.</summary>
    public static void For(long rows, long width, Action<long, long> range)
    {
        long elements = rows * width;
        int workers = (int)Math.Min(Math.Min(Math.Max(torch.get_num_threads(), 1), Math.Max(1, elements / MinElementsPerWorker)), Math.Max(rows, 1));
        if (workers <= 1)
        {
            range(0, rows);
            return;
        }
        long perWorker = (rows + workers - 1) / workers;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            w => range(Math.Min(rows, w * perWorker), Math.Min(rows, (w + 1) * perWorker)));
    }
}

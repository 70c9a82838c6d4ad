using TorchSharp;

namespace SparseCircuits.Core;

/// <summary>
/// libtorch's thread pools can be sized only once, before the first parallel op. Every entry
/// point that runs tensor code calls <see cref="EnsureInitialized"/>; the CLI sets
/// <see cref="RequestedThreads"/> from --threads (or SPARSE_CIRCUITS_THREADS) before that.
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _initialized;

    /// <summary>Intra-op threads to use; null means one per core.</summary>
    public static int? RequestedThreads { get; set; }

    public static int Threads { get; private set; }

    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized) return;
            int threads = RequestedThreads
                ?? (int.TryParse(Environment.GetEnvironmentVariable("SPARSE_CIRCUITS_THREADS"), out int env) && env > 0 ? env : Environment.ProcessorCount);
            if (threads < 1) throw new SparseCircuitsException($"threads must be >= 1 (got {threads})");
            torch.set_num_threads(threads);
            // One interop thread: we never run independent graph branches in parallel, and
            // extra pools only compete with the intra-op threads on a small machine.
            try { torch.set_num_interop_threads(1); } catch (Exception) { /* already started by an earlier op */ }
            Threads = threads;
            _initialized = true;
        }
    }
}

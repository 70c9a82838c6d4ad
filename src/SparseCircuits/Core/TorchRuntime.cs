using System.Runtime.InteropServices;
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

    /// <summary>
    /// Must run before libtorch is loaded (the CLI and the tests call it first thing). libtorch's
    /// OpenMP runtime reads its environment once, when loaded; its default active waiting spins
    /// for milliseconds after every parallel op, which on a busy 2-core machine made each op cost
    /// ~8 ms (a forward/backward of `small` went from 0.8 s to 3.5 s). Passive waiting avoids that.
    /// .NET's Environment.SetEnvironmentVariable does not reach native getenv, hence libc setenv.
    /// A value the user already set is kept.
    /// </summary>
    public static void PrepareNativeEnvironment()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int setenv(string name, string value, int overwrite);

    /// <summary>The thread count <see cref="EnsureInitialized"/> uses: --threads, else SPARSE_CIRCUITS_THREADS, else one per core.</summary>
    public static int PlannedThreads() => RequestedThreads
        ?? (int.TryParse(Environment.GetEnvironmentVariable("SPARSE_CIRCUITS_THREADS"), out int env) && env > 0 ? env : Environment.ProcessorCount);

    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized) return;
            PrepareNativeEnvironment();
            int threads = PlannedThreads();
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

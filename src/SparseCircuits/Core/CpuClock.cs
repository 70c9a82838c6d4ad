using System.Diagnostics;

namespace SparseCircuits.Core;

/// <summary>
/// CPU time this process has used (all its threads) since the clock started: a budget in CPU
/// time does not stretch when other work shares the machine, as wall time does.
/// </summary>
public sealed class CpuClock
{
    readonly TimeSpan _start = Used();

    public static CpuClock StartNew() => new();

    public TimeSpan Elapsed => Used() - _start;

    static TimeSpan Used()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}

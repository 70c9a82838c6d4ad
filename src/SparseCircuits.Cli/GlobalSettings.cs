using System.ComponentModel;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli;

/// <summary>Options every command accepts.</summary>
public class GlobalSettings : CommandSettings
{
    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads (default: one per core; env SPARSE_CIRCUITS_THREADS)")]
    public int? Threads { get; init; }

    [CommandOption("--quiet")]
    [Description("No progress bars.")]
    public bool Quiet { get; init; }
}

sealed class GlobalOptionsInterceptor : ICommandInterceptor
{
    public void Intercept(CommandContext context, CommandSettings settings)
    {
        if (settings is GlobalSettings global && global.Threads is { } threads)
        {
            if (threads < 1) throw new SparseCircuits.Core.SparseCircuitsException($"--threads must be >= 1 (got {threads})");
            SparseCircuits.Core.TorchRuntime.RequestedThreads = threads;
        }
    }
}

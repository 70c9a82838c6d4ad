using SparseCircuits.Cli.Commands;

namespace SparseCircuits.Cli;

/// <summary>
/// How this process was started, as a command line prefix that starts the same build again: the
/// `circuits` executable, or `dotnet` and circuits.dll when run through dotnet. The parallel
/// sweep's child processes and the Slurm job scripts use it, so every job runs the build that
/// started the sweep.
/// </summary>
static class CircuitsExecutable
{
    public static IReadOnlyList<string> Command()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the circuits executable");
        return Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, typeof(SweepCommand).Assembly.Location] : [self];
    }
}

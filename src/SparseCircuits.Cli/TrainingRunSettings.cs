using System.ComponentModel;
using SparseCircuits.Training;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli;

/// <summary>Options of every command that trains a run (train, bridges train): length, early stop, resume, warm start.</summary>
public class TrainingRunSettings : GlobalSettings
{
    [CommandOption("--max-steps <N>")]
    [Description("Total optimizer steps (schedules are laid out over them).")]
    public long? MaxSteps { get; init; }

    [CommandOption("--stop-after <N>")]
    [Description("Stop with a checkpoint after N steps; continue later with --resume.")]
    public long? StopAfter { get; init; }

    [CommandOption("--resume")]
    [Description("Continue the run in --out from its latest checkpoint, exactly.")]
    public bool Resume { get; init; }

    [CommandOption("--init <RUN>")]
    [Description("Start from the weights of RUN's best checkpoint (or of a checkpoint directory) instead of a random initialisation; the model settings must match. Sets init_from.")]
    public string? Init { get; init; }

    /// <summary><paramref name="config"/> with --max-steps, --init and the command's seed laid over it.</summary>
    public TrainingConfig WithRunOptions(TrainingConfig config, ulong? seed)
    {
        if (MaxSteps is long steps) config = config with { Steps = steps };
        if (Init is string init) config = config with { InitFrom = InitialWeights.Resolve(init) };
        if (seed is ulong s) config = config with { Seed = s };
        return config;
    }
}

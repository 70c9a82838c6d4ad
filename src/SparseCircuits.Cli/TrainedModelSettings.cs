using System.ComponentModel;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli;

/// <summary>Options of every command that works on a trained model (eval, sample, means, prune, tasks eval).</summary>
public class TrainedModelSettings : GlobalSettings
{
    [CommandOption("--model <DIR>")]
    [Description("Run directory from `circuits train` (or runs/<preset>/model from `circuits run`).")]
    public string Model { get; init; } = "";

    [CommandOption("--checkpoint <best|latest|STEP>")]
    [Description("Which checkpoint of the run to load: best by val loss, latest, or the one at a step (1750 or step_001750) the run kept.")]
    [DefaultValue("best")]
    public CheckpointChoice Checkpoint { get; init; } = CheckpointChoice.Best;

    /// <summary>Runs before any command that takes these settings (Spectre calls it after parsing).</summary>
    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Model) ? ValidationResult.Error("--model is required") : base.Validate();
}

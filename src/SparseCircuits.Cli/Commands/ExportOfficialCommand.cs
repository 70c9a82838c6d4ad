using System.ComponentModel;
using SparseCircuits.Official;
using SparseCircuits.Training;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits export official RUN --out DIR</c>: a run in the release's layout, loadable by its <c>load_model</c>.</summary>
public sealed class ExportOfficialCommand : Command<ExportOfficialCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("Run directory (from `circuits train`, `circuits run` or `circuits import official`).")]
        public string Run { get; init; } = "";

        [CommandOption("--out <DIR>")]
        [Description("Directory for final_model.pt, beeg_config.json and tokenizer/ (new, empty, or an earlier export).")]
        public string Out { get; init; } = "";

        [CommandOption("--checkpoint <best|latest|STEP>")]
        [Description("Which checkpoint of the run to export.")]
        [DefaultValue("best")]
        public CheckpointChoice Checkpoint { get; init; } = CheckpointChoice.Best;

        public override Spectre.Console.ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Out) ? Spectre.Console.ValidationResult.Error("--out is required") : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        OfficialExportResult result = ConsoleProgress.Run(settings, progress => OfficialExport.Run(settings.Run, settings.Out, settings.Checkpoint, progress));
        Console.WriteLine($"exported {OfficialImport.ModelFile} ({result.Bytes / 1024.0 / 1024.0:0.0} MB) and beeg_config.json -> {result.OutDir}");
        foreach (string note in result.Notes) Console.WriteLine($"note: {note}");
        return 0;
    }
}

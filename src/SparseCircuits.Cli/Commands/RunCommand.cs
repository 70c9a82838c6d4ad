using System.ComponentModel;
using SparseCircuits.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits run</c>: the whole pipeline in one resumable command.</summary>
public sealed class RunCommand : Command<RunCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--preset <NAME>")]
        [Description("Training preset: tiny | small | base.")]
        [DefaultValue("small")]
        public string Preset { get; init; } = "small";

        [CommandOption("--source <DIR>")]
        [Description("Python sources for the corpus (repeatable). Default: the machine's Python standard library.")]
        public string[] Sources { get; init; } = [];

        [CommandOption("--out <DIR>")]
        [Description("Pipeline directory (default runs/<preset>); rerunning skips finished stages.")]
        public string? Out { get; init; }

        [CommandOption("--vocab <N>")]
        [DefaultValue(2048)]
        [Description("Tokenizer vocabulary size.")]
        public int Vocab { get; init; } = 2048;

        [CommandOption("--set <FIELD=VALUE>")]
        [Description("Training config overrides, as for `circuits train`. Repeatable.")]
        public string[] Set { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        string outDir = settings.Out ?? Path.Combine("runs", settings.Preset);
        var options = new PipelineOptions(outDir, settings.Preset, settings.Sources, settings.Vocab, settings.Set,
            "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        var stages = ConsoleProgress.Run(settings, progress => PipelineRunner.Run(options, progress, cancellation));
        var table = new Table().AddColumns("stage", "status", "result");
        foreach (var stage in stages) table.AddRow(stage.Stage, stage.Skipped ? "already done" : "done", Markup.Escape(stage.Detail));
        AnsiConsole.Write(table);
        var layout = new PipelineLayout(Path.GetFullPath(outDir));
        Console.WriteLine($"model: {layout.Model}");
        Console.WriteLine($"circuits: {Path.Combine(layout.Circuits, SparseCircuits.Circuits.TaskSuiteSummary.FileName)}");
        Console.WriteLine($"try: circuits sample --model {layout.Model} --prompt \"def \"");
        return 0;
    }
}

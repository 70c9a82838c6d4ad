using System.ComponentModel;
using SparseCircuits.Circuits;
using SparseCircuits.Data;
using SparseCircuits.Pipeline;
using SparseCircuits.Tasks;
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

        [CommandOption("--synthetic <SIZE>")]
        [Description("Generated simple Python added to the real files (50MB, 0 = none).")]
        [DefaultValue(PipelineOptions.DefaultSynthetic)]
        public string Synthetic { get; init; } = PipelineOptions.DefaultSynthetic;

        [CommandOption(PromptContextOption.Template)]
        [Description(PromptContextOption.Help)]
        [DefaultValue(PromptContextOption.Default)]
        public string Context { get; init; } = PromptContextOption.Default;

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

        [CommandOption("--dense-start-steps <N>")]
        [Description("Train a plain transformer of the same shape for N steps first and start the sparse model from it, with AbsTopK off at attention (lower loss, induction; larger circuits: docs/training.md). 0 = the paper's schedule: sparse from a random init.")]
        [DefaultValue(0L)]
        public long DenseStartSteps { get; init; }

        [CommandOption("--task <NAME|FILE.jsonl>")]
        [Description("Tasks of the circuits stage (repeatable). Default: the paper's 20 tasks.")]
        public string[] Tasks { get; init; } = [];

        [CommandOption("--target-loss <LOSS>")]
        [Description("Task loss a circuit must reach (the paper's 0.15).")]
        [DefaultValue(PruningConfig.DefaultTargetLoss)]
        public double TargetLoss { get; init; } = PruningConfig.DefaultTargetLoss;

        [CommandOption("--strict-target")]
        [Description("Skip tasks the model cannot bring to --target-loss instead of pruning them at its own loss + 0.05.")]
        public bool StrictTarget { get; init; }

        [CommandOption("--relaxed-minutes <MIN>")]
        [Description("Minutes of the circuits stage after which no further relaxed-target task is started (tasks at --target-loss always are; they go first).")]
        [DefaultValue(PipelineOptions.DefaultRelaxedMinutes)]
        public double RelaxedMinutes { get; init; } = PipelineOptions.DefaultRelaxedMinutes;

        [CommandOption("--runs <N>")]
        [Description("Mask-learning runs per task (the hyperparameter search; `circuits prune` defaults to 3).")]
        [DefaultValue(PipelineOptions.DefaultPruningRuns)]
        public int Runs { get; init; } = PipelineOptions.DefaultPruningRuns;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        string outDir = Core.OutputPath.CheckDirectory(settings.Out ?? Path.Combine("runs", settings.Preset));
        var pruning = (PipelineOptions.DefaultPruning with { TargetLoss = settings.TargetLoss, Runs = settings.Runs }).Validate();
        var tasks = (PipelineOptions.DefaultTasks with
        {
            Tasks = settings.Tasks.Length > 0 ? settings.Tasks : null,
            RelaxedTargetSlack = settings.StrictTarget ? null : PipelineOptions.DefaultTasks.RelaxedTargetSlack,
            RelaxedMinutes = settings.RelaxedMinutes,
            Context = PromptContexts.Parse(settings.Context),
        }).Validate();
        long synthetic = CorpusOptions.ParseSize(settings.Synthetic);
        var options = new PipelineOptions(outDir, settings.Preset, settings.Sources, settings.Vocab, settings.Set,
            "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)), pruning, tasks, synthetic, settings.DenseStartSteps);
        var stages = ConsoleProgress.Run(settings, progress => PipelineRunner.Run(options, progress, cancellation));
        var table = new Table().AddColumns("stage", "status", "result");
        foreach (var stage in stages) table.AddRow(stage.Stage, stage.Skipped ? "already done" : "done", Markup.Escape(stage.Detail));
        AnsiConsole.Write(table);
        var layout = new PipelineLayout(Path.GetFullPath(outDir));
        string summaryPath = Path.Combine(layout.Circuits, SparseCircuits.Circuits.TaskSuiteSummary.FileName);
        if (File.Exists(summaryPath)) TaskSuiteTable.Print(Core.Json.ReadFile<SparseCircuits.Circuits.TaskSuiteSummary>(summaryPath));
        Console.WriteLine($"model: {layout.Model}");
        Console.WriteLine($"circuits: {Path.Combine(layout.Circuits, SparseCircuits.Circuits.TaskSuiteSummary.FileName)}");
        Console.WriteLine($"report: {layout.Report} (open it in a browser, or: circuits serve --model {layout.Model})");
        Console.WriteLine($"try: circuits sample --model {layout.Model} --prompt \"def \"");
        return 0;
    }
}

using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Evaluation;
using SparseCircuits.Tasks;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary>
/// <c>circuits compare</c>: the scorecard of each run (<see cref="ModelScorecard"/>) as one table row:
/// val losses, the paper tasks on generated and hand-written pairs, the induction gain.
/// </summary>
public sealed class CompareCommand : Command<CompareCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("Run directories; RUN@CHECKPOINT picks a checkpoint of that run (best, latest or a step), e.g. runs/a@1000 runs/a@latest.")]
        public string[] Runs { get; init; } = [];

        [CommandOption("--checkpoint <best|latest|STEP>")]
        [Description("Checkpoint of every run given without @: best by val loss (among those at the run's final density), latest, or a step.")]
        [DefaultValue("best")]
        public CheckpointChoice Checkpoint { get; init; } = CheckpointChoice.Best;

        [CommandOption("--data <DIR>")]
        [Description("Shard directory for the val losses (default: each run's own).")]
        public string? Data { get; init; }

        [CommandOption("--tokens <N>")]
        [Description("At most N predicted tokens per val loss (default: the whole split).")]
        public long? Tokens { get; init; }

        [CommandOption("-n|--count <N>")]
        [Description("Generated test pairs per task.")]
        [DefaultValue(200)]
        public int N { get; init; } = 200;

        [CommandOption("--seed <S>")]
        [Description("Generator seed of the test pairs.")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption(PromptContextOption.Template)]
        [Description(PromptContextOption.Help)]
        [DefaultValue(PromptContextOption.Default)]
        public string Context { get; init; } = PromptContextOption.Default;

        [CommandOption("--tasks")]
        [Description("Also print each paper task's test loss and accuracy per run.")]
        public bool PerTask { get; init; }

        [CommandOption("--json")]
        [Description("Print the scorecards as JSON.")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            Runs.Length == 0 ? ValidationResult.Error("give at least one run directory") : base.Validate();
    }

    /// <param name="Label">the run as given on the command line</param>
    public sealed record Row(string Label, Scorecard Scorecard);

    public sealed record Report(string LossNote, double SolvedAccuracy, double SolvedLoss, string Pairs, IReadOnlyList<Row> Runs);

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var options = new ScorecardOptions
        {
            DataDir = settings.Data, ValTokens = settings.Tokens ?? long.MaxValue, TestPairs = settings.N, Seed = settings.Seed,
            Context = PromptContexts.Parse(settings.Context),
        }.Validate();
        var runs = settings.Runs.Select(r => (Label: r, Spec: RunSpec.Parse(r, settings.Checkpoint))).ToList();
        foreach (var (label, spec) in runs)
            if (!Directory.Exists(spec.Dir)) throw new SparseCircuitsException($"run directory not found: {spec.Dir} (from {label})");
        // Everything is measured before anything is printed: stdout never holds half a table.
        var rows = ConsoleProgress.Run(settings, progress => runs.Select(run =>
        {
            cancellation.ThrowIfCancellationRequested();
            using var trained = TrainedModel.Load(run.Spec.Dir, run.Spec.Checkpoint);
            return new Row(run.Label, ModelScorecard.Measure(trained, options, new PrefixedProgress(progress, run.Label + ": ")));
        }).ToList());

        string pairs = $"{options.TestPairs} generated test pairs per task ({settings.Context.Trim().ToLowerInvariant()} context, seed {options.Seed}) and the hand-written pairs";
        if (settings.Json)
        {
            Console.WriteLine(Core.Json.Serialize(new Report(TasksEvalCommand.LossNote, TaskScore.SolvedAccuracy, TaskScore.SolvedLoss, pairs, rows)));
            return 0;
        }
        var table = new Table().AddColumns("run", "step", "tokens", "val", "val real (bits/byte)", "val synthetic", "mean task loss", "solved",
            $"accuracy ≥ {TaskScore.SolvedAccuracy}", "hand-written: mean, solved", "induction gain");
        foreach (var (label, card) in rows)
            table.AddRow(Markup.Escape(label), card.Step.ToString("N0"), Tokens(card.TrainedTokens), $"{card.Val.LossNats:0.000}",
                card.ValReal is { } real ? $"{real.LossNats:0.000} ({real.BitsPerByte:0.000})" : "-",
                card.ValSynthetic is { } synthetic ? $"{synthetic.LossNats:0.000}" : "-",
                $"{card.MeanTaskLoss:0.000}", $"{card.Solved}/{card.TasksAvailable}", card.Accurate.ToString(),
                card.HandwrittenMeanLoss is double hw ? $"{hw:0.000}, {card.HandwrittenSolved}/{card.HandwrittenAvailable}" : "-",
                card.InductionGain >= 0 ? $"+{card.InductionGain:0.00}" : $"{card.InductionGain:0.00}");
        AnsiConsole.Write(table);
        if (settings.PerTask) AnsiConsole.Write(PerTaskTable(rows));
        foreach (var (label, card) in rows)
            foreach (ScorecardTask task in card.Tasks.Where(t => t.UnavailableReason is not null))
                Console.WriteLine($"{label}: {task.Task} unavailable: {task.UnavailableReason}");
        Console.WriteLine($"Tasks: the {TaskRegistry.Paper.Count} paper tasks on {pairs}; solved = accuracy >= {TaskScore.SolvedAccuracy} and loss <= {TaskScore.SolvedLoss}. " +
                          "Tokens: this run's steps x batch x context (a warm start's earlier tokens are not counted). Induction gain: loss on the first copy of " +
                          "repeated random tokens minus the second (nats/token).");
        Console.WriteLine(TasksEvalCommand.LossNote);
        return 0;
    }

    static string Tokens(long tokens) => tokens >= 1_000_000 ? $"{tokens / 1e6:0.0}M" : tokens.ToString("N0");

    static Table PerTaskTable(IReadOnlyList<Row> rows)
    {
        var table = new Table().AddColumn("task (test loss, accuracy)");
        foreach (Row row in rows) table.AddColumn(Markup.Escape(row.Label));
        foreach (ContrastTask task in TaskRegistry.Paper)
        {
            var cells = rows.Select(r => r.Scorecard.Tasks.First(t => t.Task == task.Name).Test is { } s
                ? $"{s.Loss:0.000} ({s.Accuracy:0.00}){(s.Solved ? " [green]✓[/]" : "")}"
                : "unavailable");
            table.AddRow([task.Name, .. cells]);
        }
        return table;
    }

    /// <summary>A run directory and which of its checkpoints, from <c>RUN</c> or <c>RUN@CHECKPOINT</c>.</summary>
    public readonly record struct RunSpec(string Dir, CheckpointChoice Checkpoint)
    {
        /// <summary>Splits at the last '@' when what follows reads as a checkpoint, so a directory with '@' in its name still works.</summary>
        public static RunSpec Parse(string text, CheckpointChoice fallback)
        {
            int at = text.LastIndexOf('@');
            if (at > 0 && !Directory.Exists(text))
                return new RunSpec(text[..at], CheckpointChoice.Parse(text[(at + 1)..]));
            return new RunSpec(text, fallback);
        }
    }
}

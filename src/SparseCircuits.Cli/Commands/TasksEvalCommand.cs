using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Tasks;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tasks eval</c>: task loss, accuracy and logit difference of a trained model, per task.</summary>
public sealed class TasksEvalCommand : Command<TasksEvalCommand.Settings>
{
    public sealed class Settings : TrainedModelSettings
    {
        [CommandOption(PromptContextOption.Template)]
        [Description(PromptContextOption.Help)]
        [DefaultValue(PromptContextOption.Default)]
        public string Context { get; init; } = PromptContextOption.Default;

        [CommandOption("--task <NAME>")]
        [Description("Task to evaluate (repeatable, or comma-separated); default: all built-in tasks.")]
        public string[] Task { get; init; } = [];

        [CommandOption("--file <FILE>")]
        [Description("Evaluate a custom task file (JSONL) instead.")]
        public string? File { get; init; }

        [CommandOption("--handwritten")]
        [Description("Evaluate the hand-written pairs (a dozen per paper task, written independently of the generators; docs/tasks.md) instead of generated ones.")]
        public bool Handwritten { get; init; }

        [CommandOption("--split <SPLIT>")]
        [Description("train | val | test | all")]
        [DefaultValue("test")]
        public string Split { get; init; } = "test";

        [CommandOption("-n|--count <N>")]
        [Description("Pairs per task (a custom file: at most N).")]
        [DefaultValue(200)]
        public int N { get; init; } = 200;

        [CommandOption("--seed <S>")]
        [Description("Generator seed for built-in tasks.")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption("--batch-size <N>")]
        [Description("Pairs per forward pass (two prompts each).")]
        [DefaultValue(32)]
        public int BatchSize { get; init; } = 32;

        [CommandOption("--max-prompt-tokens <N>")]
        [Description("Drop pairs with longer prompts (default: the model's context).")]
        public int? MaxPromptTokens { get; init; }


        [CommandOption("--json")]
        [Description("Print the result as JSON.")]
        public bool Json { get; init; }
    }

    /// <summary>Accuracy gap between the two sides of the pairs above which a task's row is flagged as one-sided.</summary>
    public const double OneSidedGap = 0.5;

    public const string LossNote = "loss = binary cross-entropy over {tok, alt} at the last position, mean over both prompts of a pair (nats); the official code sums the two prompts, i.e. 2x this number";

    public sealed record TaskRow(string Task, bool Available, string? Reason, int Pairs, int Candidates, IReadOnlyDictionary<string, int> Dropped,
        double? Loss, double? OfficialLoss, double? Accuracy, double? LogitDiff, bool Solved,
        double? PositiveAccuracy = null, double? NegativeAccuracy = null, double? PositiveLoss = null, double? NegativeLoss = null);

    /// <param name="Pairs">where the pairs come from: generated (with the prompt context), hand-written, or a custom file</param>
    public sealed record Report(string Model, long Step, string Split, ulong Seed, string LossNote, double SolvedAccuracy, double SolvedLoss,
        IReadOnlyList<TaskRow> Tasks, string Pairs = "");

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.N < 1) throw new SparseCircuitsException($"--n must be >= 1 (got {settings.N})");
        if (settings.BatchSize < 1) throw new SparseCircuitsException($"--batch-size must be >= 1 (got {settings.BatchSize})");
        if (settings.File is not null && settings.Task.Length > 0) throw new SparseCircuitsException("give --task or --file, not both");
        if (settings.File is not null && settings.Handwritten) throw new SparseCircuitsException("give --handwritten or --file, not both");
        TaskSplit? split = TasksCommon.ParseSplit(settings.Split);
        if (settings.Handwritten && split is not null && split != TaskSplit.Test)
            throw new SparseCircuitsException($"hand-written pairs are all test pairs; --split {settings.Split} has none (use test or all)");
        var tasks = settings.Task.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(TaskRegistry.Get).Distinct().ToList();
        if (settings.File is null && tasks.Count == 0)
            tasks = settings.Handwritten ? [.. HandwrittenPairs.Tasks.Select(TaskRegistry.Get)] : [.. TaskRegistry.All];
        if (settings.Handwritten) tasks.ForEach(t => HandwrittenPairs.Require(t.Name));
        if (settings.File is not null && !System.IO.File.Exists(settings.File)) throw new SparseCircuitsException($"file not found: {settings.File}");

        using var trained = TrainedModel.Load(settings.Model, settings.Checkpoint);
        int contextLength = trained.Config.Model.NCtx;
        int maxPrompt = settings.MaxPromptTokens ?? contextLength;
        if (maxPrompt > contextLength) throw new SparseCircuitsException($"--max-prompt-tokens {maxPrompt} is longer than the model's context of {contextLength} tokens");
        var options = new TaskDatasetOptions { MaxPromptTokens = maxPrompt, Context = PromptContexts.Parse(settings.Context) }.Validate();

        var rows = ConsoleProgress.Run(settings, progress =>
        {
            var result = new List<TaskRow>();
            int total = settings.File is null ? tasks.Count : 1;
            using var bar = progress.Start("evaluating tasks", total, "tasks");
            if (settings.File is not null)
            {
                result.Add(Evaluate(TaskDataset.FromFile(settings.File, trained.Tokenizer, split, settings.N, options), trained, settings.BatchSize));
                bar.Advance(1);
            }
            foreach (ContrastTask task in tasks)
            {
                cancellation.ThrowIfCancellationRequested();
                bar.Status(task.Name);
                var data = settings.Handwritten
                    ? TaskDataset.FromHandwritten(task, trained.Tokenizer, settings.N, options)
                    : TaskDataset.FromTask(task, trained.Tokenizer, split, settings.N, settings.Seed, options);
                // A bar per task: progress within a large task, and a place where Ctrl+C stops it between batches.
                using (var prompts = progress.Start($"  {task.Name}", 2 * data.Pairs.Count, "prompts"))
                    result.Add(Evaluate(data, trained, settings.BatchSize, prompts));
                bar.Advance(1);
            }
            return result;
        });

        string pairs = settings.Handwritten ? "hand-written" : settings.File ?? $"generated, {settings.Context.Trim().ToLowerInvariant()} context";
        var report = new Report(trained.CheckpointDir, trained.Step, settings.Split, settings.Seed, LossNote, TaskScore.SolvedAccuracy, TaskScore.SolvedLoss, rows, pairs);
        if (settings.Json)
        {
            Console.WriteLine(Core.Json.Serialize(report));
            return 0;
        }
        var table = new Table().AddColumns("task", "pairs", "loss", "accuracy", "logit diff", "solved");
        foreach (TaskRow row in rows)
        {
            if (!row.Available)
            {
                table.AddRow(Markup.Escape(row.Task), "0", "-", "-", "-", "[red]unavailable[/]");
                continue;
            }
            table.AddRow(Markup.Escape(row.Task), row.Pairs.ToString(), $"{row.Loss:0.000}", $"{row.Accuracy:0.000}", $"{row.LogitDiff:0.00}",
                row.Solved ? "[green]yes[/]" : "no");
        }
        AnsiConsole.Write(table);
        // Reasons below the table, where long text cannot squeeze the columns.
        foreach (TaskRow row in rows.Where(r => !r.Available)) Console.WriteLine($"{row.Task} unavailable: {row.Reason}");
        // A model that gives one answer to every prompt is right on one side of the pairs only.
        foreach (TaskRow row in rows.Where(r => r.Available && Math.Abs(r.PositiveAccuracy!.Value - r.NegativeAccuracy!.Value) >= OneSidedGap))
            Console.WriteLine($"{row.Task} is one-sided: accuracy {row.PositiveAccuracy:0.00} on positive prompts, {row.NegativeAccuracy:0.00} on negative");
        int solved = rows.Count(r => r.Solved);
        Console.WriteLine($"{solved} of {rows.Count} tasks solved (accuracy >= {TaskScore.SolvedAccuracy}, loss <= {TaskScore.SolvedLoss}) on {settings.Split} pairs ({pairs}); model step {trained.Step}");
        Console.WriteLine(LossNote);
        return 0;
    }

    static TaskRow Evaluate(TaskDataset data, TrainedModel trained, int batchSize, IProgressTask? progress = null)
    {
        var dropped = data.Dropped.ToDictionary(kv => PairEncoder.Name(kv.Key), kv => kv.Value);
        if (!data.Available || data.Pairs.Count == 0)
            return new TaskRow(data.Name, false, data.UnavailableReason, 0, data.Candidates, dropped, null, null, null, null, false);
        var (score, positive, negative) = TaskEvaluator.EvaluateBySide(trained.Model, data, batchSize, progress);
        return new TaskRow(data.Name, true, null, score.Pairs, data.Candidates, dropped, score.Loss, score.OfficialLoss, score.Accuracy, score.LogitDiff, score.Solved,
            positive.Accuracy, negative.Accuracy, positive.Loss, negative.Loss);
    }
}

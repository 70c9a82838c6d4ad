using SparseCircuits.Core;
using SparseCircuits.Tasks;
using SparseCircuits.Training;

namespace SparseCircuits.Circuits;

/// <summary>Which tasks <see cref="TaskSuitePruning"/> prunes and how their prompts are drawn.</summary>
public sealed record TaskSuiteOptions
{
    /// <summary>Built-in task names or custom task files (<c>*.jsonl</c>); null = every built-in task.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }
    /// <summary>Longest prompt kept (longer pairs are dropped); null = the model's context.</summary>
    public int? MaxPromptTokens { get; init; }
    /// <summary>How much code surrounds each built-in task's cue (custom files are used as written).</summary>
    public PromptContext Context { get; init; } = PromptContext.Short;
    public int TrainPairs { get; init; } = TaskSource.DefaultTrainPairs;
    public int ValPairs { get; init; } = TaskSource.DefaultValPairs;
    public int TestPairs { get; init; } = TaskSource.DefaultTestPairs;
    /// <summary>
    /// When set, a task the full model cannot bring to the suite's target but answers better than
    /// chance (val accuracy at least <see cref="RelaxedMinAccuracy"/>) is pruned at the full
    /// model's own val loss plus this slack instead of being skipped: the circuit then explains
    /// what the model does, not the paper's standard. Such rows carry their target and stay out of
    /// the geometric mean. Null (the default, and the paper's method) skips them.
    /// </summary>
    public double? RelaxedTargetSlack { get; init; }
    public double RelaxedMinAccuracy { get; init; } = 0.65;
    /// <summary>
    /// Wall-clock minutes of the whole suite after which no further relaxed-target task is started
    /// (tasks at the suite's own target always are), so a demo run keeps to its time on a slow
    /// machine: tasks at the target are pruned first, then relaxed ones from the lowest target up,
    /// and a relaxed task starts only while the minutes spent so far plus the mean minutes per
    /// task fit. Skipped tasks get a row saying so. Null: no limit.
    /// </summary>
    public double? RelaxedMinutes { get; init; }
    /// <summary>
    /// Keep a task's existing circuit.json instead of pruning it again, when it was pruned from the
    /// same weights at the same target (resumable sweeps and pipeline runs).
    /// </summary>
    public bool ReuseFinished { get; init; }

    /// <summary>Unknown task names, missing task files and a bad slack are user errors, found before any work starts.</summary>
    public TaskSuiteOptions Validate()
    {
        foreach (string task in Tasks ?? [])
        {
            if (!IsFile(task)) TaskRegistry.Get(task); // throws naming the unknown task
            else if (!File.Exists(task)) throw new SparseCircuitsException($"task file not found: {task}");
        }
        if (RelaxedTargetSlack is double slack && !(slack >= 0 && double.IsFinite(slack)))
            throw new SparseCircuitsException($"relaxed target slack must be a finite number >= 0; got {slack}");
        if (RelaxedMinutes is double minutes && !(minutes >= 0 && double.IsFinite(minutes)))
            throw new SparseCircuitsException($"relaxed-task minutes must be a finite number >= 0; got {minutes}");
        return this;
    }

    /// <summary>A custom task file rather than a built-in name.</summary>
    public static bool IsFile(string task) => task.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>The name a task's circuit is stored under: the built-in name or the file's name without extension.</summary>
    public static string NameOf(string task) => IsFile(task) ? Path.GetFileNameWithoutExtension(task) : task;
}

/// <summary>
/// Prunes a list of tasks (by default every built-in task of the suite), one after another,
/// writing each circuit under <c>circuitsDir/NAME/circuit.json</c> and the summary as
/// <c>circuitsDir/summary.json</c>. A task the model cannot bring to the target (or the tokenizer
/// cannot express) becomes a row with the reason instead of stopping the run.
/// </summary>
public static class TaskSuitePruning
{
    public static TaskSuiteSummary Run(TrainedModel trained, MeanActivations means, PruningConfig config, string circuitsDir, ulong seed,
        IProgressReporter progress, TaskSuiteOptions? suite = null)
    {
        suite ??= new TaskSuiteOptions();
        var model = ModelReference.Of(trained);
        // Longer prompts are dropped, not fatal.
        var options = new TaskDatasetOptions
        {
            MaxPromptTokens = Math.Min(suite.MaxPromptTokens ?? int.MaxValue, trained.Config.Model.NCtx),
            Context = suite.Context,
        }.Validate();
        IReadOnlyList<string> tasks = suite.Tasks ?? TaskRegistry.PaperNames.ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rows = new TaskSummaryRow?[tasks.Count];
        var handwritten = tasks.Select(t => HandwrittenScore(trained, t, options)).ToArray();
        var ready = new List<(int Index, BinaryTask Task, (TaskScore Full, TaskScore Ablated) Test, PruningConfig Config)>();
        for (int i = 0; i < tasks.Count; i++)
        {
            (TaskScore Full, TaskScore Ablated)? test = null;
            try
            {
                BinaryTask task = TaskSuiteOptions.IsFile(tasks[i])
                    ? TaskSource.FromFile(tasks[i], trained.Tokenizer, seed, options)
                    : TaskSource.FromBuiltIn(tasks[i], trained.Tokenizer, seed, options, suite.TrainPairs, suite.ValPairs, suite.TestPairs);
                test = TestScores(trained.Model, means, task);
                ready.Add((i, task, test.Value, TargetFor(trained.Model, task, config, suite)));
            }
            catch (SparseCircuitsException e)
            {
                rows[i] = FailedRow(tasks[i], e.Message, config.TargetLoss, test);
            }
        }
        // Tasks at the suite's target first, then relaxed ones from the lowest target up (OrderBy is stable).
        var order = ready.OrderBy(r => r.Config.TargetLoss > config.TargetLoss).ThenBy(r => r.Config.TargetLoss).ToList();
        int pruned = 0;
        using (var bar = progress.Start("tasks", tasks.Count, "tasks"))
        {
            bar.Advance(tasks.Count - ready.Count);
            foreach (var (index, task, test, taskConfig) in order)
            {
                string spec = tasks[index], name = TaskSuiteOptions.NameOf(spec);
                bar.Status(name);
                string path = Path.Combine(circuitsDir, name, CircuitFile.FileName);
                Circuit? finished = suite.ReuseFinished && File.Exists(path) ? CircuitFile.Load(path) : null;
                bool reuse = finished is not null && finished.Model.Source?.CheckpointSha256 == model.CheckpointSha256
                    && finished.TargetLoss == taskConfig.TargetLoss;
                if (!reuse && taskConfig.TargetLoss > config.TargetLoss && suite.RelaxedMinutes is double minutes
                    && clock.Elapsed.TotalMinutes * (pruned + 1) / Math.Max(pruned, 1) > minutes)
                {
                    rows[index] = FailedRow(spec, $"not pruned: the suite's {minutes:0.#} minutes for tasks at relaxed targets were spent; " +
                        $"`circuits prune --task {name} --target-loss {taskConfig.TargetLoss}` prunes it", taskConfig.TargetLoss, test);
                    bar.Advance(1);
                    continue;
                }
                try
                {
                    Circuit circuit;
                    if (reuse) circuit = finished!;
                    else
                    {
                        circuit = CircuitPruning.Run(trained.Model, means, task, taskConfig, progress, model,
                            TaskSuiteOptions.IsFile(spec) ? Path.GetFullPath(spec) : TaskSource.BuiltInSource(spec, options.Context));
                        CircuitFile.Save(path, circuit);
                        pruned++;
                    }
                    rows[index] = TaskSuiteSummary.Row(circuit, Path.GetRelativePath(circuitsDir, path)) with
                    {
                        TestLoss = test.Full.Loss, TestAccuracy = test.Full.Accuracy, AllAblatedLoss = test.Ablated.Loss,
                    };
                }
                catch (SparseCircuitsException e)
                {
                    rows[index] = FailedRow(spec, e.Message, taskConfig.TargetLoss, test);
                }
                bar.Advance(1);
            }
        }
        var summary = new TaskSuiteSummary(1, config.TargetLoss,
            rows.Select((r, i) => r! with { HandwrittenLoss = handwritten[i]?.Loss, HandwrittenAccuracy = handwritten[i]?.Accuracy }).ToList());
        summary.Save(Path.Combine(circuitsDir, TaskSuiteSummary.FileName));
        return summary;
    }

    static TaskSummaryRow FailedRow(string spec, string reason, double targetLoss, (TaskScore Full, TaskScore Ablated)? test) =>
        new(TaskSuiteOptions.NameOf(spec), false, null, null, null, null, null, null, reason, targetLoss,
            TestLoss: test?.Full.Loss, TestAccuracy: test?.Full.Accuracy, AllAblatedLoss: test?.Ablated.Loss);

    /// <summary>The full model's score on a built-in task's hand-written pairs; null for custom files and tasks without usable ones.</summary>
    static TaskScore? HandwrittenScore(TrainedModel trained, string spec, TaskDatasetOptions options)
    {
        if (TaskSuiteOptions.IsFile(spec) || !HandwrittenPairs.Has(spec)) return null;
        TaskDataset data = TaskDataset.FromHandwritten(TaskRegistry.Get(spec), trained.Tokenizer, options: options);
        if (!data.Available) return null;
        using var scope = TorchSharp.torch.NewDisposeScope();
        return TaskEvaluator.Score(trained.Model, TaskExample.FromPairs(data.Pairs));
    }

    /// <summary>The full model's score on the task's test split, and the score with every node mean-ablated.</summary>
    static (TaskScore Full, TaskScore Ablated) TestScores(Model.SparseGpt model, MeanActivations means, BinaryTask task)
    {
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        using var frozen = new FrozenWeights(model);
        using var scope = TorchSharp.torch.NewDisposeScope();
        return (TaskEvaluator.Score(model, task.Test), TaskEvaluator.Score(model, task.Test, ablation.Fixed(new bool[space.Count])));
    }

    /// <summary>The pruning config for one task: the suite's, or with a relaxed target (<see cref="TaskSuiteOptions.RelaxedTargetSlack"/>).</summary>
    public static PruningConfig TargetFor(Model.SparseGpt model, BinaryTask task, PruningConfig config, TaskSuiteOptions suite)
    {
        if (suite.RelaxedTargetSlack is not double slack) return config;
        TaskScore full;
        using (TorchSharp.torch.NewDisposeScope()) full = TaskEvaluator.Score(model, task.Val);
        if (full.Loss <= config.TargetLoss || full.Accuracy < suite.RelaxedMinAccuracy) return config;
        return config with { TargetLoss = Math.Round(full.Loss + slack, 3) };
    }
}

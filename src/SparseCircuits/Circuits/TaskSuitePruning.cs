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
    /// <summary>Keep a task's existing circuit.json instead of pruning it again (for resumable sweeps).</summary>
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
        var rows = new List<TaskSummaryRow>();
        using (var bar = progress.Start("tasks", tasks.Count, "tasks"))
        {
            foreach (string spec in tasks)
            {
                string name = TaskSuiteOptions.NameOf(spec);
                bar.Status(name);
                string path = Path.Combine(circuitsDir, name, CircuitFile.FileName);
                (TaskScore Full, TaskScore Ablated)? test = null;
                try
                {
                    BinaryTask task = TaskSuiteOptions.IsFile(spec)
                        ? TaskSource.FromFile(spec, trained.Tokenizer, seed, options)
                        : TaskSource.FromBuiltIn(spec, trained.Tokenizer, seed, options, suite.TrainPairs, suite.ValPairs, suite.TestPairs);
                    test = TestScores(trained.Model, means, task);
                    Circuit circuit;
                    if (suite.ReuseFinished && File.Exists(path)) circuit = CircuitFile.Load(path);
                    else
                    {
                        circuit = CircuitPruning.Run(trained.Model, means, task, TargetFor(trained.Model, task, config, suite), progress, model,
                            TaskSuiteOptions.IsFile(spec) ? Path.GetFullPath(spec) : TaskSource.BuiltInSource(spec, options.Context));
                        CircuitFile.Save(path, circuit);
                    }
                    rows.Add(TaskSuiteSummary.Row(circuit, Path.GetRelativePath(circuitsDir, path)) with
                    {
                        TestLoss = test.Value.Full.Loss, TestAccuracy = test.Value.Full.Accuracy, AllAblatedLoss = test.Value.Ablated.Loss,
                    });
                }
                catch (SparseCircuitsException e)
                {
                    rows.Add(new TaskSummaryRow(name, false, null, null, null, null, null, null, e.Message, config.TargetLoss,
                        TestLoss: test?.Full.Loss, TestAccuracy: test?.Full.Accuracy, AllAblatedLoss: test?.Ablated.Loss));
                }
                bar.Advance(1);
            }
        }
        var summary = new TaskSuiteSummary(1, config.TargetLoss, rows);
        summary.Save(Path.Combine(circuitsDir, TaskSuiteSummary.FileName));
        return summary;
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

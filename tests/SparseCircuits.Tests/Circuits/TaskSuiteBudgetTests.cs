using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The suite's minutes for relaxed-target tasks: tasks at the target go first and always run; relaxed ones stop when the minutes are spent.</summary>
public sealed class TaskSuiteBudgetTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    public void Relaxed_tasks_wait_for_the_tasks_at_the_target_and_are_skipped_once_the_minutes_are_spent()
    {
        // Two custom tasks; the quotes file is listed last but, being the one at the target, is pruned first.
        string brackets = run.Write("brackets.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(i =>
            $$"""{"positive": "xs = [{{i}}, {{i + 1}}", "negative": "xs = ({{i}}, {{i + 1}}", "tok": "]", "alt": ")"}""")));
        string[] tasks = [brackets, run.TaskFile];
        using var trained = TrainedModel.Load(run.RunDir);
        using var shard = new TokenShard(Path.Combine(run.ShardDir, "val.bin"));
        var means = MeanActivations.Compute(trained.Model, shard, 256);
        double ValLoss(string file) => TaskEvaluator.Score(trained.Model, TaskSource.FromFile(file, trained.Tokenizer).Val).Loss;
        double quotes = ValLoss(run.TaskFile), other = ValLoss(brackets);
        Assert.NotEqual(quotes, other);
        // The target sits at the quotes task's own loss: quotes is at the target, brackets relaxed (or the other way round).
        var config = new PruningConfig { TargetLoss = Math.Min(quotes, other) + 1e-6, Steps = 2, Runs = 1, BatchPrompts = 8, RefineEvaluations = 2 };
        string atTarget = quotes < other ? "quotes" : "brackets", relaxed = quotes < other ? "brackets" : "quotes";
        var suite = new TaskSuiteOptions { Tasks = tasks, RelaxedTargetSlack = 0.05, RelaxedMinAccuracy = 0, RelaxedMinutes = 0 };

        var spent = TaskSuitePruning.Run(trained, means, config, run["budget-0"], seed: 0, NullProgress.Instance, suite);
        Assert.Equal(["brackets", "quotes"], spent.Tasks.Select(r => r.Task)); // rows keep the listed order
        var skipped = spent.Tasks.Single(r => r.Task == relaxed);
        Assert.False(skipped.Pruned);
        Assert.Contains("minutes for tasks at relaxed targets were spent", skipped.Reason);
        Assert.Equal(Math.Round(Math.Max(quotes, other) + 0.05, 3), skipped.TargetLoss!.Value, 9);
        Assert.NotNull(skipped.TestLoss);
        Assert.False(spent.IsRelaxed(skipped)); // counted as relaxed only once pruned
        Assert.True(spent.Tasks.Single(r => r.Task == atTarget).Pruned, "the task at the target runs whatever the minutes");
        Assert.False(File.Exists(run[$"budget-0/{relaxed}/circuit.json"]));

        var plenty = TaskSuitePruning.Run(trained, means, config, run["budget-60"], seed: 0, NullProgress.Instance, suite with { RelaxedMinutes = 60 });
        Assert.All(plenty.Tasks, r => Assert.True(r.Pruned, r.Reason));

        // A rerun that reuses finished circuits keeps those of the same weights and target, and prunes again at another target.
        string atTargetFile = run[$"budget-60/{atTarget}/circuit.json"], relaxedFile = run[$"budget-60/{relaxed}/circuit.json"];
        File.SetLastWriteTimeUtc(atTargetFile, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(relaxedFile, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var reused = TaskSuitePruning.Run(trained, means, config with { TargetLoss = config.TargetLoss + 0.001 }, run["budget-60"], seed: 0,
            NullProgress.Instance, suite with { RelaxedMinutes = 60, ReuseFinished = true });
        Assert.All(reused.Tasks, r => Assert.True(r.Pruned, r.Reason));
        Assert.Equal(2001, File.GetLastWriteTimeUtc(relaxedFile).Year); // relaxed target unchanged: kept
        Assert.NotEqual(2001, File.GetLastWriteTimeUtc(atTargetFile).Year); // the target moved: pruned again
        Assert.Throws<SparseCircuitsException>(() => (suite with { RelaxedMinutes = -1 }).Validate());
    }
}

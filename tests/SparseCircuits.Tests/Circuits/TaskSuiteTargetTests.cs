using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Circuits;

/// <summary>Relaxed per-task targets of the all-tasks run and how the summary treats them.</summary>
public sealed class TaskSuiteTargetTests
{
    public TaskSuiteTargetTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void A_task_the_model_cannot_reach_is_pruned_at_its_own_loss_plus_the_slack_only_when_asked()
    {
        using var model = PlantedModel.Create();
        BinaryTask task = PlantedModel.Task();
        TaskScore full = TaskEvaluator.Score(model, task.Val);
        Assert.True(full.Accuracy >= 0.9 && full.Loss > 0, $"planted model: {full}");

        var strict = new PruningConfig { TargetLoss = full.Loss / 2 };
        var relaxed = new TaskSuiteOptions { RelaxedTargetSlack = 0.05 };
        Assert.Same(strict, TaskSuitePruning.TargetFor(model, task, strict, new TaskSuiteOptions())); // the paper's method: unchanged
        Assert.Equal(Math.Round(full.Loss + 0.05, 3), TaskSuitePruning.TargetFor(model, task, strict, relaxed).TargetLoss, 12);

        var reachable = new PruningConfig { TargetLoss = full.Loss * 2 };
        Assert.Same(reachable, TaskSuitePruning.TargetFor(model, task, reachable, relaxed)); // already reachable
        var demanding = relaxed with { RelaxedMinAccuracy = 1.01 }; // no model is accurate enough
        Assert.Same(strict, TaskSuitePruning.TargetFor(model, task, strict, demanding));
    }

    [Fact]
    public void Trivial_rows_reached_with_no_edge_stay_out_of_the_geometric_mean_and_are_listed()
    {
        TaskSummaryRow Row(string name, int nodes, int edges) => new(name, true, nodes, edges, 0.01, 0.01, 0.01, $"{name}/circuit.json", null, 0.15);
        var summary = new TaskSuiteSummary(1, 0.15, [Row("else_elif", 0, 0), Row("a", 3, 4), Row("b", 5, 9)]);
        Assert.Equal(6, summary.GeometricMeanEdges!.Value, 9); // not 0
        Assert.True(TaskSuiteSummary.IsTrivial(summary.Tasks[0]));
        Assert.False(TaskSuiteSummary.IsTrivial(summary.Tasks[1]));
        using var dir = new Support.TempDir();
        string path = dir["summary.json"];
        summary.Save(path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(["else_elif"], json["trivial_tasks"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(6, json["geometric_mean_edges"]!.GetValue<double>(), 9);
    }

    [Fact]
    public void Relaxed_rows_stay_out_of_the_geometric_mean()
    {
        TaskSummaryRow Row(string name, int edges, double target) => new(name, true, 10, edges, 0.1, 1, 1, $"{name}/circuit.json", null, target);
        var summary = new TaskSuiteSummary(1, 0.15, [Row("a", 4, 0.15), Row("b", 9, 0.15), Row("c", 1000, 0.6),
            new TaskSummaryRow("d", false, null, null, null, null, null, null, "cannot reach", 0.15)]);
        Assert.Equal(6, summary.GeometricMeanEdges!.Value, 9);
        Assert.True(summary.IsRelaxed(summary.Tasks[2]));
        Assert.False(summary.IsRelaxed(summary.Tasks[0]));
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Circuits;

/// <summary>
/// One task's line in the all-tasks summary: its circuit's numbers, or why there is none.
/// <paramref name="TargetLoss"/> is the target the circuit was pruned at (a relaxed target when the
/// model could not reach the suite's; see <see cref="TaskSuiteOptions.RelaxedTargetSlack"/>).
/// </summary>
public sealed record TaskSummaryRow(string Task, bool Pruned, int? Nodes, int? Edges, double? SufficiencyLoss, double? NecessityLoss,
    double? ControlLoss, string? CircuitFile, string? Reason, double? TargetLoss = null, double? FullModelValLoss = null);

/// <summary>
/// <c>summary.json</c> of <c>circuits prune --all-tasks</c>: per task nodes, edges, sufficiency /
/// necessity / control losses, and the paper's headline number, the geometric mean of edges over
/// the tasks that were pruned.
/// </summary>
public sealed record TaskSuiteSummary(int Format, double TargetLoss, IReadOnlyList<TaskSummaryRow> Tasks)
{
    public const string FileName = "summary.json";

    /// <summary>
    /// exp(mean(log(edges))) over tasks pruned at the suite's target (see <see cref="GeometricMean.Of"/>);
    /// circuits at relaxed targets are not comparable and stay out.
    /// </summary>
    public double? GeometricMeanEdges =>
        GeometricMean.Of(Tasks.Where(t => t.Pruned && t.Edges is not null && !IsRelaxed(t)).Select(t => (double)t.Edges!.Value));

    /// <summary>Pruned at a looser target than the suite's.</summary>
    public bool IsRelaxed(TaskSummaryRow row) => row.TargetLoss is double t && t > TargetLoss;

    public static TaskSummaryRow Row(Circuit c, string file) => new(c.Task.Name, true, c.NodeCount, c.EdgeCount,
        c.Validation.Sufficiency.Loss, c.Validation.Necessity.Loss, c.Validation.Control.LossMean, file, null, c.TargetLoss, c.ValFullModel.Loss);

    /// <summary>Writes the summary with its geometric mean (atomic).</summary>
    public void Save(string path) => AtomicFile.WriteJson(path, new { Format, TargetLoss, GeometricMeanEdges, Tasks });
}

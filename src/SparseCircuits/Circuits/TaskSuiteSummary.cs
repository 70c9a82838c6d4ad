using SparseCircuits.Core;

namespace SparseCircuits.Circuits;

/// <summary>One task's line in the all-tasks summary: its circuit's numbers, or why there is none.</summary>
public sealed record TaskSummaryRow(string Task, bool Pruned, int? Nodes, int? Edges, double? SufficiencyLoss, double? NecessityLoss,
    double? ControlLoss, string? CircuitFile, string? Reason);

/// <summary>
/// <c>summary.json</c> of <c>circuits prune --all-tasks</c>: per task nodes, edges, sufficiency /
/// necessity / control losses, and the paper's headline number, the geometric mean of edges over
/// the tasks that were pruned.
/// </summary>
public sealed record TaskSuiteSummary(int Format, double TargetLoss, IReadOnlyList<TaskSummaryRow> Tasks)
{
    public const string FileName = "summary.json";

    /// <summary>exp(mean(log(edges))) over pruned tasks (see <see cref="GeometricMean.Of"/>).</summary>
    public double? GeometricMeanEdges =>
        GeometricMean.Of(Tasks.Where(t => t.Pruned && t.Edges is not null).Select(t => (double)t.Edges!.Value));

    public static TaskSummaryRow Row(Circuit c, string file) => new(c.Task.Name, true, c.NodeCount, c.EdgeCount,
        c.Validation.Sufficiency.Loss, c.Validation.Necessity.Loss, c.Validation.Control.LossMean, file, null);

    /// <summary>Writes the summary with its geometric mean (atomic).</summary>
    public void Save(string path) => AtomicFile.WriteJson(path, new { Format, TargetLoss, GeometricMeanEdges, Tasks });
}

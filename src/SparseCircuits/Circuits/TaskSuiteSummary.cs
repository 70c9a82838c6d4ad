using SparseCircuits.Core;

namespace SparseCircuits.Circuits;

/// <summary>
/// One task's line in the all-tasks summary: its circuit's numbers, or why there is none.
/// <paramref name="TargetLoss"/> is the target the circuit was pruned at (a relaxed target when the
/// model could not reach the suite's; see <see cref="TaskSuiteOptions.RelaxedTargetSlack"/>).
/// <paramref name="TestLoss"/> and <paramref name="TestAccuracy"/> are the full model's on the test
/// split, <paramref name="AllAblatedLoss"/> the loss with every node mean-ablated (a task that is
/// solved with nothing kept needs no circuit); all three are known for every task that has prompts.
/// <paramref name="HandwrittenLoss"/> and <paramref name="HandwrittenAccuracy"/> are the full model's on
/// the task's hand-written pairs (<see cref="Tasks.HandwrittenPairs"/>; null for custom files).
/// </summary>
public sealed record TaskSummaryRow(string Task, bool Pruned, int? Nodes, int? Edges, double? SufficiencyLoss, double? NecessityLoss,
    double? ControlLoss, string? CircuitFile, string? Reason, double? TargetLoss = null, double? FullModelValLoss = null,
    double? TestLoss = null, double? TestAccuracy = null, double? AllAblatedLoss = null,
    double? HandwrittenLoss = null, double? HandwrittenAccuracy = null)
{
    /// <summary>The full model does the task on test: accuracy at least 0.9 and loss at most 0.15.</summary>
    public bool Solved => IsSolved(TestLoss, TestAccuracy);

    /// <summary>The same bar on the hand-written pairs.</summary>
    public bool SolvedHandwritten => IsSolved(HandwrittenLoss, HandwrittenAccuracy);

    static bool IsSolved(double? loss, double? accuracy) => loss is double l && accuracy is double a
        && a >= Tasks.TaskScore.SolvedAccuracy && l <= Tasks.TaskScore.SolvedLoss;
}

/// <summary>
/// <c>summary.json</c> of <c>circuits prune --all-tasks</c>: per task nodes, edges, sufficiency /
/// necessity / control losses, and the paper's headline number, the geometric mean of edges over
/// the tasks pruned at the target (trivial ones, reached with no edge, listed apart).
/// </summary>
public sealed record TaskSuiteSummary(int Format, double TargetLoss, IReadOnlyList<TaskSummaryRow> Tasks)
{
    public const string FileName = "summary.json";

    /// <summary>
    /// exp(mean(log(edges))) over tasks pruned at the suite's target (see <see cref="GeometricMean.Of"/>);
    /// circuits at relaxed targets are not comparable and stay out.
    /// </summary>
    public double? GeometricMeanEdges =>
        GeometricMean.Of(Tasks.Where(t => t.Pruned && t.Edges is not null && !IsRelaxed(t) && !IsTrivial(t)).Select(t => (double)t.Edges!.Value));

    /// <summary>Pruned at a looser target than the suite's.</summary>
    public bool IsRelaxed(TaskSummaryRow row) => row.Pruned && row.TargetLoss is double t && t > TargetLoss;

    /// <summary>
    /// Reached the target with no edge at all (typically no node: the answer comes from the
    /// embedding-unembedding path with everything mean-ablated). Such a task needs no circuit; a 0
    /// would make the geometric mean 0, so it is listed, not averaged.
    /// </summary>
    public static bool IsTrivial(TaskSummaryRow row) => row.Pruned && row.Edges == 0;

    public static TaskSummaryRow Row(Circuit c, string file) => new(c.Task.Name, true, c.NodeCount, c.EdgeCount,
        c.Validation.Sufficiency.Loss, c.Validation.Necessity.Loss, c.Validation.Control.LossMean, file, null, c.TargetLoss, c.ValFullModel.Loss);

    /// <summary>Writes the summary with its geometric mean (atomic).</summary>
    public void Save(string path) =>
        AtomicFile.WriteJson(path, new { Format, TargetLoss, GeometricMeanEdges, TrivialTasks = Tasks.Where(IsTrivial).Select(t => t.Task).ToList(), Tasks });
}

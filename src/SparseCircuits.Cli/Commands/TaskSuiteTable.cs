using SparseCircuits.Circuits;
using Spectre.Console;

namespace SparseCircuits.Cli.Commands;

/// <summary>The per-task table `prune --all-tasks` and `run` end with: is each task solved, and its circuit.</summary>
internal static class TaskSuiteTable
{
    public static void Print(TaskSuiteSummary summary)
    {
        static string F(double? v) => v is double x ? x.ToString("0.000") : "";
        // Short headers and no free-text column, so the table stays readable at 80 columns.
        var table = new Table().AddColumns("task", "test loss", "acc", "solved", "hw loss", "hw acc", "all ablated", "target", "nodes", "edges", "suff.", "nec.", "control");
        foreach (var r in summary.Tasks)
            table.AddRow(r.Task, F(r.TestLoss), F(r.TestAccuracy), r.Solved ? "yes" : "no", F(r.HandwrittenLoss), F(r.HandwrittenAccuracy),
                F(r.AllAblatedLoss), r.Pruned ? F(r.TargetLoss) : "",
                $"{r.Nodes}", $"{r.Edges}", F(r.SufficiencyLoss), F(r.NecessityLoss), F(r.ControlLoss));
        AnsiConsole.Write(table);
        Console.WriteLine("hw: the full model on the task's hand-written pairs; edges: nonzero weights between kept nodes; all ablated: test loss with every node mean-ablated; " +
            "suff./nec./control: test loss of the circuit alone, of the model without it, of random node sets of its size");
        foreach (var r in summary.Tasks.Where(r => r.Reason is not null)) Console.WriteLine($"  {r.Task}: {r.Reason}");
        int atTarget = summary.Tasks.Count(r => r.Pruned && !summary.IsRelaxed(r));
        var trivial = summary.Tasks.Where(TaskSuiteSummary.IsTrivial).Select(r => r.Task).ToList();
        Console.WriteLine($"solved on test (accuracy >= {Tasks.TaskScore.SolvedAccuracy}, loss <= {Tasks.TaskScore.SolvedLoss}): {summary.Tasks.Count(r => r.Solved)} of {summary.Tasks.Count} tasks; " +
            $"on hand-written pairs: {summary.Tasks.Count(r => r.SolvedHandwritten)} of {summary.Tasks.Count(r => r.HandwrittenLoss is not null)}; " +
            $"pruned at target {summary.TargetLoss}: {atTarget}; at relaxed targets: {summary.Tasks.Count(summary.IsRelaxed)}" +
            (trivial.Count > 0 ? $"; trivial (no edge needed): {string.Join(", ", trivial)}" : ""));
        Console.WriteLine($"geometric mean of edges at target {summary.TargetLoss} (trivial tasks left out): " +
            (summary.GeometricMeanEdges is double g ? g.ToString("0.0") : "n/a"));
    }
}

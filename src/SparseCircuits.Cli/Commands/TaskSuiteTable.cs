using SparseCircuits.Circuits;
using Spectre.Console;

namespace SparseCircuits.Cli.Commands;

/// <summary>The per-task table `prune --all-tasks` and `run` end with: is each task solved, and its circuit.</summary>
internal static class TaskSuiteTable
{
    public static void Print(TaskSuiteSummary summary)
    {
        static string F(double? v) => v is double x ? x.ToString("0.000") : "";
        var table = new Table().AddColumns("task", "test loss", "test acc", "solved", "all ablated", "target", "nodes", "edges (weights)",
            "sufficiency", "necessity", "control", "note");
        foreach (var r in summary.Tasks)
            table.AddRow(r.Task, F(r.TestLoss), F(r.TestAccuracy), r.Solved ? "yes" : "no", F(r.AllAblatedLoss), F(r.TargetLoss),
                $"{r.Nodes}", $"{r.Edges}", F(r.SufficiencyLoss), F(r.NecessityLoss), F(r.ControlLoss), Markup.Escape(r.Reason ?? ""));
        AnsiConsole.Write(table);
        int atTarget = summary.Tasks.Count(r => r.Pruned && !summary.IsRelaxed(r));
        Console.WriteLine($"solved on test (accuracy >= 0.9, loss <= 0.15): {summary.Tasks.Count(r => r.Solved)} of {summary.Tasks.Count} tasks; " +
            $"pruned at target {summary.TargetLoss}: {atTarget}; at relaxed targets: {summary.Tasks.Count(summary.IsRelaxed)}");
        Console.WriteLine($"geometric mean of edges (nonzero weights between kept nodes) at target {summary.TargetLoss}: " +
            (summary.GeometricMeanEdges is double g ? g.ToString("0.0") : "n/a"));
    }
}

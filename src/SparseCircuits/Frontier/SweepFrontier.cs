using SparseCircuits.Core;
using SparseCircuits.Sweeps;

namespace SparseCircuits.Frontier;

/// <summary>Everything <c>circuits frontier</c> computes, and where it was written.</summary>
public sealed record FrontierResult(FrontierTable Table, MatchedLossComparison Comparison, EdgesVsTarget EdgesVsTarget,
    IReadOnlyList<PlotImage> Plots, IReadOnlyList<string> Files);

/// <summary>
/// Reads a sweep directory's finished jobs and writes the frontier: table.csv, table.json,
/// comparison.json, frontier.png/.svg and edges_vs_target.png/.svg.
/// </summary>
public static class SweepFrontier
{
    public static FrontierResult Compute(string sweepDir)
    {
        var layout = new SweepLayout(Path.GetFullPath(sweepDir));
        if (!Directory.Exists(layout.Root)) throw new SparseCircuitsException($"sweep directory not found: {layout.Root}");
        if (!File.Exists(layout.SpecFile)) throw new SparseCircuitsException($"{layout.Root} is not a sweep (no sweep.json); run `circuits sweep` first");
        SweepSpec spec = SweepSpec.Load(layout.SpecFile);
        var finished = new List<SweepJobResult>();
        var missing = new List<string>();
        foreach (SweepModel model in spec.Models)
        {
            if (SweepJobResult.TryLoad(layout.JobResult(model.Name)) is { } job) finished.Add(job);
            else missing.Add(model.Name);
        }
        var tasks = spec.Tasks.Select(Circuits.TaskSuiteOptions.NameOf).ToList();
        var table = FrontierTable.Build(spec.TargetLoss, tasks, finished, missing);
        var repeatTables = table.Repeats < 2 ? [] : Enumerable.Range(0, table.Repeats).Select(r => FrontierTable.Build(spec.TargetLoss, tasks, finished, missing, r)).ToList();
        var comparison = MatchedLossComparison.Compute(table, repeatTables);
        var edges = EdgesVsTarget.Compute(table);
        return new FrontierResult(table, comparison, edges,
            [FrontierPlots.Frontier(table), FrontierPlots.EdgesVsTargetLoss(edges, table.TargetLoss)], []);
    }

    public static FrontierResult Write(string sweepDir, string? outDir = null)
    {
        FrontierResult result = Compute(sweepDir);
        string dir = Path.GetFullPath(outDir ?? Path.Combine(sweepDir, "frontier"));
        var files = new List<string>();
        void Text(string name, string text)
        {
            string path = Path.Combine(dir, name);
            AtomicFile.WriteAllText(path, text);
            files.Add(path);
        }
        void Bytes(string name, byte[] bytes)
        {
            string path = Path.Combine(dir, name);
            AtomicFile.WriteAllBytes(path, bytes);
            files.Add(path);
        }
        Text("table.csv", FrontierFiles.Csv(result.Table));
        Text("table.json", Json.Serialize(FrontierFiles.Json(result.Table)) + "\n");
        Text("comparison.json", Json.Serialize(new
        {
            Format = 1, result.Table.TargetLoss, result.Comparison.Tasks, result.Comparison.Ratio, result.Comparison.Summary,
            result.Comparison.Pairs, result.Table.TrivialTasks, result.Comparison.PerTaskRatio, result.Comparison.PerTask,
            result.Table.Repeats, RepeatRatios = result.Comparison.Repeats,
            EdgesVsTarget = result.EdgesVsTarget,
        }) + "\n");
        foreach (var (plot, name) in result.Plots.Zip(["frontier", "edges_vs_target"]))
        {
            Bytes($"{name}.png", plot.Png);
            Text($"{name}.svg", plot.Svg);
        }
        return result with { Files = files };
    }
}

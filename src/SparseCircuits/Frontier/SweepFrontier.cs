using SparseCircuits.Core;
using SparseCircuits.Sweeps;

namespace SparseCircuits.Frontier;

/// <summary>A figure and the file name (without extension) it is written under.</summary>
public sealed record NamedPlot(string Name, PlotImage Image);

/// <summary>Everything <c>circuits frontier</c> computes, and where it was written.</summary>
public sealed record FrontierResult(FrontierTable Table, MatchedLossComparison Comparison, EdgesVsTarget EdgesVsTarget,
    IReadOnlyList<NamedPlot> Plots, IReadOnlyList<string> Files);

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
        var repeatTables = Enumerable.Range(0, table.Repeats < 2 ? 0 : table.Repeats)
            .Select(r => FrontierTable.Build(spec.TargetLoss, tasks, finished, missing, r)).ToList();
        var comparison = MatchedLossComparison.Compute(table, repeatTables);
        var edges = EdgesVsTarget.Compute(table);
        // One more frontier per task some model solves: with weak models the common tasks are few.
        var perTask = tasks.Where(t => !table.TrivialTasks.Contains(t) && table.Rows.Any(r => r.Edges[t] is > 0))
            .Select(t => new NamedPlot($"frontier_{FileSafe(t)}", FrontierPlots.Frontier(table, t)));
        return new FrontierResult(table, comparison, edges,
        [
            new("frontier", FrontierPlots.Frontier(table)), new("edges_vs_target", FrontierPlots.EdgesVsTargetLoss(edges, table.TargetLoss)),
            .. perTask,
        ], []);
    }

    static string FileSafe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_'));

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
        foreach (var (name, plot) in result.Plots)
        {
            Bytes($"{name}.png", plot.Png);
            Text($"{name}.svg", plot.Svg);
        }
        return result with { Files = files };
    }
}

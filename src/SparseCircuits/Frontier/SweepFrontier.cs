using SparseCircuits.Core;
using SparseCircuits.Sweeps;

namespace SparseCircuits.Frontier;

/// <summary>A figure and the file name (without extension) it is written under.</summary>
public sealed record NamedPlot(string Name, PlotImage Image);

/// <summary>Everything <c>circuits frontier</c> computes, and where it was written.</summary>
public sealed record FrontierResult(FrontierTable Table, MatchedLossComparison Comparison, EdgesVsTarget EdgesVsTarget,
    IReadOnlyList<NamedPlot> Plots, IReadOnlyList<string> Files);

/// <summary>
/// Reads the finished jobs of one sweep directory, or of several pooled into one table (e.g. the
/// same grid trained with another seed in its own directory), and writes the frontier:
/// table.csv, table.json, comparison.json, frontier*.png/.svg and edges_vs_target.png/.svg.
/// </summary>
public static class SweepFrontier
{
    public static FrontierResult Compute(string sweepDir) => Compute([sweepDir]);

    /// <summary>Pools the jobs of <paramref name="sweepDirs"/>: they must share target loss and tasks, and their model names must differ.</summary>
    public static FrontierResult Compute(IReadOnlyList<string> sweepDirs)
    {
        if (sweepDirs.Count == 0) throw new SparseCircuitsException("give at least one sweep directory");
        var finished = new List<SweepJobResult>();
        var missing = new List<string>();
        SweepSpec? first = null;
        string firstRoot = "";
        foreach (string sweepDir in sweepDirs)
        {
            var layout = new SweepLayout(Path.GetFullPath(sweepDir));
            if (!Directory.Exists(layout.Root)) throw new SparseCircuitsException($"sweep directory not found: {layout.Root}");
            if (!File.Exists(layout.SpecFile)) throw new SparseCircuitsException($"{layout.Root} is not a sweep (no sweep.json); run `circuits sweep` first");
            SweepSpec spec = SweepSpec.Load(layout.SpecFile);
            if (first is null) (first, firstRoot) = (spec, layout.Root);
            else if (spec.TargetLoss != first.TargetLoss || !TaskNames(spec).SequenceEqual(TaskNames(first)))
                throw new SparseCircuitsException($"{layout.Root} has other tasks or another target loss than {firstRoot}; only sweeps pruned alike can be pooled");
            foreach (SweepModel model in spec.Models)
            {
                if (finished.Any(j => j.Name == model.Name) || missing.Contains(model.Name))
                    throw new SparseCircuitsException($"model name '{model.Name}' occurs in more than one pooled sweep ({layout.Root}); names must differ");
                if (SweepJobResult.TryLoad(layout.JobResult(model.Name)) is { } job) finished.Add(job);
                else missing.Add(model.Name);
            }
        }
        var tasks = TaskNames(first!);
        double target = first!.TargetLoss;
        var table = FrontierTable.Build(target, tasks, finished, missing);
        var repeatTables = Enumerable.Range(0, table.Repeats < 2 ? 0 : table.Repeats)
            .Select(r => FrontierTable.Build(target, tasks, finished, missing, r)).ToList();
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

    static List<string> TaskNames(SweepSpec spec) => spec.Tasks.Select(Circuits.TaskSuiteOptions.NameOf).ToList();

    static string FileSafe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_'));

    public static FrontierResult Write(string sweepDir, string? outDir = null) => Write([sweepDir], outDir);

    /// <summary>Where the frontier of one sweep goes by default: <c>SWEEP_DIR/frontier</c>.</summary>
    public static string DefaultDir(string sweepDir) => Path.Combine(sweepDir, "frontier");

    /// <summary>The table as JSON, written last: a frontier folder with this file is complete.</summary>
    public const string TableFile = "table.json";

    /// <param name="outDir">default: the frontier folder of a single sweep; required when pooling several</param>
    public static FrontierResult Write(IReadOnlyList<string> sweepDirs, string? outDir = null)
    {
        if (outDir is null && sweepDirs.Count != 1) throw new SparseCircuitsException("give --out DIR when pooling several sweeps");
        FrontierResult result = Compute(sweepDirs);
        string dir = Path.GetFullPath(outDir ?? DefaultDir(sweepDirs[0]));
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
        Text(TableFile, Json.Serialize(FrontierFiles.Json(result.Table)) + "\n"); // last: its presence marks a complete frontier
        return result with { Files = files };
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;

namespace SparseCircuits.Frontier;

/// <summary>Geometric-mean edges over the common tasks at one target loss (null when some task has no circuit at it).</summary>
public sealed record TargetPoint(double TargetLoss, double? Edges);

/// <summary>One model's circuit size as the target loss is loosened.</summary>
public sealed record EdgesVsTargetSeries(string Model, bool Dense, double ValLoss, IReadOnlyList<TargetPoint> Points);

/// <summary>
/// Circuit size against target loss for a sparse and a dense model of closest val loss. The sweep
/// prunes once, at its target; a looser target's circuit is read off the prefix edge curve of the
/// chosen ranking (<see cref="PrefixEdgeCurve.EdgesAt"/>): the fewest edges among the evaluated
/// prefixes whose validation task loss is at most that target. This is an upper bound on what a
/// fresh search at that target would find, and it exists only for targets at or above the sweep's.
/// </summary>
public sealed record EdgesVsTarget(IReadOnlyList<string> Tasks, IReadOnlyList<EdgesVsTargetSeries> Series, string? Note)
{
    /// <summary>Targets from the sweep's up to ln 2 (a chance-level binary loss), 7 points.</summary>
    public static IReadOnlyList<double> Targets(double target)
    {
        double top = Math.Log(2);
        if (target >= top) return [target];
        return Enumerable.Range(0, 7).Select(i => Math.Round(target + i * (top - target) / 6, 4)).ToList();
    }

    public static EdgesVsTarget Compute(FrontierTable table)
    {
        if (table.CommonTasks.Count == 0) return new(table.CommonTasks, [], "no task is solved by every model");
        var pair = table.Rows.Where(r => !r.Dense).SelectMany(s => table.Rows.Where(r => r.Dense).Select(d => (Sparse: s, Dense: d)))
            .OrderBy(p => Math.Abs(p.Sparse.ValLoss - p.Dense.ValLoss)).ThenBy(p => p.Sparse.Name, StringComparer.Ordinal).FirstOrDefault();
        if (pair.Sparse is null) return new(table.CommonTasks, [], "the sweep needs a sparse and a dense model");
        var targets = Targets(table.TargetLoss);
        EdgesVsTargetSeries Series(FrontierRow row) => new(row.Name, row.Dense, row.ValLoss, targets.Select(t =>
        {
            var edges = table.CommonTasks.Select(task => row.Curves.FirstOrDefault(c => c.Task == task) is { } c ? PrefixEdgeCurve.EdgesAt(c.Curve, t) : null).ToList();
            return new TargetPoint(t, edges.All(e => e is not null) ? GeometricMean.Of(edges.Select(e => (double)e!.Value)) : null);
        }).ToList());
        return new(table.CommonTasks, [Series(pair.Sparse), Series(pair.Dense)], null);
    }
}

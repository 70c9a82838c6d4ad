using SparseCircuits.Core;

namespace SparseCircuits.Frontier;

/// <summary>
/// One sparse model against the dense curve: the dense models' geometric-mean edges interpolated
/// at the sparse model's val loss, and their ratio (dense / sparse; above 1 = the sparse model's
/// circuits are smaller). Null numbers come with the <paramref name="Note"/> saying why.
/// </summary>
public sealed record MatchedLossPair(string Sparse, double SparseValLoss, double? SparseEdges, double? DenseEdgesAtLoss, double? Ratio, string? Note);

/// <summary>
/// The paper's headline comparison: sparse vs dense circuit size at matched pretraining loss,
/// over the tasks every model solves. <see cref="Ratio"/> is the geometric mean of the per-model
/// ratios that could be computed.
/// </summary>
public sealed record MatchedLossComparison(IReadOnlyList<string> Tasks, IReadOnlyList<MatchedLossPair> Pairs, double? Ratio, string Summary)
{
    public static MatchedLossComparison Compute(FrontierTable table)
    {
        var dense = table.Rows.Where(r => r.Dense && r.GeometricMeanEdges is > 0).Select(r => (r.ValLoss, r.GeometricMeanEdges!.Value)).ToList();
        var pairs = new List<MatchedLossPair>();
        foreach (FrontierRow sparse in table.Rows.Where(r => !r.Dense))
        {
            if (table.CommonTasks.Count == 0)
            {
                pairs.Add(new(sparse.Name, sparse.ValLoss, null, null, null, "no task is solved by every model"));
                continue;
            }
            if (sparse.GeometricMeanEdges is not > 0)
            {
                pairs.Add(new(sparse.Name, sparse.ValLoss, sparse.GeometricMeanEdges, null, null, "geometric mean of 0 edges: no ratio"));
                continue;
            }
            double? denseEdges = InterpolateDense(dense, sparse.ValLoss, out string? refusal);
            pairs.Add(new(sparse.Name, sparse.ValLoss, sparse.GeometricMeanEdges, denseEdges,
                denseEdges / sparse.GeometricMeanEdges, refusal));
        }
        double? ratio = GeometricMean.Of(pairs.Where(p => p.Ratio is not null).Select(p => p.Ratio!.Value));
        return new MatchedLossComparison(table.CommonTasks, pairs, ratio, Describe(table, pairs, ratio));
    }

    /// <summary>
    /// Geometric-mean edges of the dense curve at val loss <paramref name="loss"/>: piecewise linear
    /// in (val loss, log edges) between the dense models sorted by loss (circuit sizes span orders
    /// of magnitude, so log edges is the natural scale; dense models at equal loss are averaged in
    /// log). Outside the dense models' loss range there is no estimate (null, with the reason).
    /// </summary>
    public static double? InterpolateDense(IReadOnlyList<(double ValLoss, double Edges)> dense, double loss, out string? refusal)
    {
        refusal = null;
        var points = dense.Where(d => d.Edges > 0 && double.IsFinite(d.ValLoss))
            .GroupBy(d => d.ValLoss).Select(g => (Loss: g.Key, LogEdges: g.Average(d => Math.Log(d.Edges)))).OrderBy(p => p.Loss).ToList();
        if (points.Count == 0)
        {
            refusal = "no dense model with a geometric mean of edges";
            return null;
        }
        if (!double.IsFinite(loss) || loss < points[0].Loss || loss > points[^1].Loss)
        {
            refusal = points.Count == 1
                ? $"val loss {loss:0.0000} differs from the only dense model's {points[0].Loss:0.0000}; no extrapolation"
                : $"val loss {loss:0.0000} is outside the dense models' range [{points[0].Loss:0.0000}, {points[^1].Loss:0.0000}]; no extrapolation";
            return null;
        }
        for (int i = 0; i < points.Count; i++)
        {
            if (points[i].Loss == loss) return Math.Exp(points[i].LogEdges);
            if (points[i].Loss > loss)
            {
                var (a, b) = (points[i - 1], points[i]);
                double t = (loss - a.Loss) / (b.Loss - a.Loss);
                return Math.Exp(a.LogEdges + t * (b.LogEdges - a.LogEdges));
            }
        }
        return Math.Exp(points[^1].LogEdges);
    }

    static string Describe(FrontierTable table, IReadOnlyList<MatchedLossPair> pairs, double? ratio)
    {
        if (table.CommonTasks.Count == 0)
            return $"No task reaches the target loss {table.TargetLoss} on every model, so no geometric mean and no sparse-vs-dense ratio is reported.";
        string tasks = $"{table.CommonTasks.Count} task(s) solved by every model ({string.Join(", ", table.CommonTasks)})";
        if (ratio is null)
            return $"Over {tasks}: no sparse model's val loss falls inside the dense models' range, so no matched-loss ratio is reported " +
                   $"({string.Join("; ", pairs.Select(p => $"{p.Sparse}: {p.Note}"))}).";
        int used = pairs.Count(p => p.Ratio is not null);
        return $"At matched val loss, dense circuits have {ratio:0.0#}x the edges of sparse ones (geometric mean over {used} of {pairs.Count} sparse " +
               $"models; dense edges interpolated in log scale between dense models) over {tasks}, at target loss {table.TargetLoss}.";
    }
}

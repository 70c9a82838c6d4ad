using SparseCircuits.Core;

namespace SparseCircuits.Frontier;

/// <summary>
/// One sparse model against the dense curve: the dense models' geometric-mean edges interpolated
/// at the sparse model's val loss, and their ratio (dense / sparse; above 1 = the sparse model's
/// circuits are smaller). Null numbers come with the <paramref name="Note"/> saying why.
/// </summary>
public sealed record MatchedLossPair(string Sparse, double SparseValLoss, double? SparseEdges, double? DenseEdgesAtLoss, double? Ratio, string? Note);

/// <summary>
/// One task on one sparse model against the dense models that solve that task (with a non-empty
/// circuit): dense edges interpolated at the sparse model's val loss, and the ratio dense / sparse.
/// </summary>
public sealed record TaskMatchedLossPair(string Task, string Sparse, double SparseValLoss, double? SparseEdges, double? DenseEdgesAtLoss, double? Ratio, string? Note);

/// <summary>The two ratios computed from one pruning repeat's circuits alone.</summary>
public sealed record RepeatRatio(int Repeat, double? Ratio, double? PerTaskRatio);

/// <summary>
/// The paper's headline comparison: sparse vs dense circuit size at matched pretraining loss,
/// over the tasks every model solves. <see cref="Ratio"/> is the geometric mean of the per-model
/// ratios that could be computed. Because weak models leave few tasks common to all of them, the
/// same comparison is also made task by task (<see cref="PerTask"/>), each against the dense
/// models that solve that task; <see cref="PerTaskRatio"/> is the geometric mean of those ratios
/// (over the same tasks and models it equals <see cref="Ratio"/>, since a geometric mean of
/// ratios is the ratio of geometric means).
/// </summary>
public sealed record MatchedLossComparison(IReadOnlyList<string> Tasks, IReadOnlyList<MatchedLossPair> Pairs, double? Ratio,
    IReadOnlyList<TaskMatchedLossPair> PerTask, double? PerTaskRatio, IReadOnlyList<RepeatRatio> Repeats, string Summary)
{
    /// <param name="repeatTables">with several pruning repeats, the table of each repeat alone: their ratios show how much of the headline is pruning noise</param>
    public static MatchedLossComparison Compute(FrontierTable table, IReadOnlyList<FrontierTable>? repeatTables = null)
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
        var perTask = PerTaskPairs(table);
        double? perTaskRatio = GeometricMean.Of(perTask.Where(p => p.Ratio is not null).Select(p => p.Ratio!.Value));
        var repeats = (repeatTables ?? []).Select((t, r) =>
        {
            MatchedLossComparison alone = Compute(t);
            return new RepeatRatio(r, alone.Ratio, alone.PerTaskRatio);
        }).ToList();
        return new MatchedLossComparison(table.CommonTasks, pairs, ratio, perTask, perTaskRatio, repeats,
            Describe(table, pairs, ratio) + " " + DescribePerTask(table, perTask, perTaskRatio) + DescribeRepeats(repeats));
    }

    static string DescribeRepeats(IReadOnlyList<RepeatRatio> repeats)
    {
        if (repeats.Count < 2) return "";
        static string Range(IEnumerable<double?> values) => values.OfType<double>().ToList() is { Count: > 0 } v ? $"{v.Min():0.0#}-{v.Max():0.0#}x" : "none";
        return $" Each of the {repeats.Count} pruning repeats alone: ratio {Range(repeats.Select(r => r.Ratio))}, task by task {Range(repeats.Select(r => r.PerTaskRatio))}.";
    }

    /// <summary>Every non-trivial task x sparse model: the model's edges against the dense curve of that task.</summary>
    static List<TaskMatchedLossPair> PerTaskPairs(FrontierTable table)
    {
        var pairs = new List<TaskMatchedLossPair>();
        foreach (string task in table.Tasks.Where(t => !table.TrivialTasks.Contains(t)))
        {
            var dense = table.Rows.Where(r => r.Dense && r.Edges[task] is > 0).Select(r => (r.ValLoss, r.Edges[task]!.Value)).ToList();
            foreach (FrontierRow sparse in table.Rows.Where(r => !r.Dense))
            {
                if (sparse.Edges[task] is not double edges)
                {
                    pairs.Add(new(task, sparse.Name, sparse.ValLoss, null, null, null, "the sparse model does not reach the target"));
                    continue;
                }
                double? denseEdges = InterpolateDense(dense, sparse.ValLoss, out string? refusal);
                pairs.Add(new(task, sparse.Name, sparse.ValLoss, edges, denseEdges, denseEdges / edges, refusal));
            }
        }
        return pairs;
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

    static string DescribePerTask(FrontierTable table, IReadOnlyList<TaskMatchedLossPair> perTask, double? ratio)
    {
        string trivial = table.TrivialTasks.Count == 0 ? ""
            : $" Left out as trivial (reached with an empty circuit on some model): {string.Join(", ", table.TrivialTasks)}.";
        var used = perTask.Where(p => p.Ratio is not null).ToList();
        if (ratio is null) return $"Task by task, no sparse model could be matched against dense models that solve the same task.{trivial}";
        var tasks = used.Select(p => p.Task).Distinct().Select(t => $"{t} {GeometricMean.Of(used.Where(p => p.Task == t).Select(p => p.Ratio!.Value)):0.0#}x");
        return $"Task by task (each sparse model against the dense models that solve that task, {used.Count} of {perTask.Count} task-model pairs): " +
               $"{ratio:0.0#}x overall ({string.Join(", ", tasks)}).{trivial}";
    }

    static string Describe(FrontierTable table, IReadOnlyList<MatchedLossPair> pairs, double? ratio)
    {
        if (table.CommonTasks.Count == 0)
            return $"No non-trivial task reaches the target loss {table.TargetLoss} on every model, so there is no geometric mean over common tasks and no ratio of them.";
        string tasks = $"{table.CommonTasks.Count} task(s) solved by every model ({string.Join(", ", table.CommonTasks)})";
        if (ratio is null)
            return $"Over {tasks}: no sparse model's val loss falls inside the dense models' range, so no matched-loss ratio is reported " +
                   $"({string.Join("; ", pairs.Select(p => $"{p.Sparse}: {p.Note}"))}).";
        int used = pairs.Count(p => p.Ratio is not null);
        return $"At matched val loss, dense circuits have {ratio:0.0#}x the edges of sparse ones (geometric mean over {used} of {pairs.Count} sparse " +
               $"models; dense edges interpolated in log scale between dense models) over {tasks}, at target loss {table.TargetLoss}.";
    }
}

using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>
/// One point of the loss-vs-k curve: the first <paramref name="Units"/> ranked units kept
/// (<paramref name="Nodes"/> nodes, <paramref name="Edges"/> paper edges; null in files written
/// before edges were stored).
/// </summary>
public sealed record LossCurvePoint(int Units, int Nodes, double Loss, double Accuracy, int? Edges = null);

/// <summary>The chosen cut of a ranking.</summary>
public sealed record DiscretizationResult(int Units, int Nodes, bool[] Keep, TaskScore Score, LogitCalibration? Calibration, IReadOnlyList<LossCurvePoint> Curve);

/// <summary>
/// Turns a ranking of units into a circuit (docs/method.md: "order nodes by tau and bisect on k"):
/// the smallest k whose validation task loss with only the top-k units kept is at most the
/// target. The loss-vs-k curve of mean ablation is often not monotone (dropping noisy nodes can
/// beat the full model, then the curve rises again towards k = all), so a plain bisection over
/// [0, all] can land on a crossing far up the curve. We first walk a coarse grid (0, 1, 2, 4, ...,
/// all) up to its first passing point, then bisect between it and the grid point before. The
/// curve holds every evaluated k (the whole grid plus the bisection points).
/// </summary>
public static class Discretization
{
    /// <summary>
    /// Smallest k in (<paramref name="lo"/>, <paramref name="hi"/>] with loss(k) &lt;= target, by
    /// bisection, given loss(lo) &gt; target and loss(hi) &lt;= target and a non-increasing loss in
    /// between; on a non-monotone stretch it returns some k with loss(k) &lt;= target and
    /// loss(k - 1) &gt; target.
    /// </summary>
    public static int Bisect(int lo, int hi, Func<int, double> loss, double target)
    {
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            if (loss(mid) <= target) hi = mid;
            else lo = mid;
        }
        return hi;
    }

    /// <summary>
    /// Smallest passing k in [0, n]: the first passing point g of <see cref="CoarseGrid"/>, then
    /// <see cref="Bisect"/> between the grid point before g and g. When no grid point passes
    /// (the caller has checked that k = n does), returns n.
    /// </summary>
    public static int SmallestPassing(int n, Func<int, double> loss, double target)
    {
        int previous = -1;
        foreach (int k in CoarseGrid(n))
        {
            if (loss(k) <= target) return previous < 0 ? k : Bisect(previous, k, loss, target);
            previous = k;
        }
        return n;
    }

    /// <summary>k = 0, 1, 2, 4, ... and n.</summary>
    public static IEnumerable<int> CoarseGrid(int n)
    {
        yield return 0;
        for (long k = 1; k < n; k *= 2) yield return (int)k;
        if (n > 0) yield return n;
    }

    public static DiscretizationResult Run(SparseGpt model, NodeAblation ablation, MaskUnits units, IReadOnlyList<int> ranking,
        IReadOnlyList<TaskExample> val, double target, bool calibrate, IProgressTask? progress = null)
    {
        var scorer = new KeptSetScorer(model, ablation, val, calibrate);
        var evaluated = new Dictionary<int, (TaskScore Score, LogitCalibration? Calibration)>();
        (TaskScore Score, LogitCalibration? Calibration) Evaluate(int k)
        {
            if (evaluated.TryGetValue(k, out var known)) return known;
            var result = evaluated[k] = scorer.Score(units.Keep(ranking, k));
            progress?.Advance(1);
            progress?.Status($"k = {k}: loss {result.Score.Loss:0.000}");
            return result;
        }

        int n = units.Count;
        int best = SmallestPassing(n, k => Evaluate(k).Score.Loss, target);
        foreach (int k in CoarseGrid(n)) Evaluate(k);
        var curve = evaluated.OrderBy(kv => kv.Key)
            .Select(kv =>
            {
                bool[] keep = units.Keep(ranking, kv.Key);
                return new LossCurvePoint(kv.Key, keep.Count(b => b), kv.Value.Score.Loss, kv.Value.Score.Accuracy, scorer.Edges(keep));
            })
            .ToList();
        bool[] chosen = units.Keep(ranking, best);
        return new DiscretizationResult(best, chosen.Count(b => b), chosen, evaluated[best].Score, evaluated[best].Calibration, curve);
    }
}

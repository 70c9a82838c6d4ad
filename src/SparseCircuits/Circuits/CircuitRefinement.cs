using SparseCircuits.Core;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>A smaller circuit the refinement accepted: its size and validation score.</summary>
public sealed record RefinementStep(int Units, int Nodes, int Edges, double Loss, double Accuracy);

/// <summary>
/// What the refinement did to the cut, as stored in circuit.json: the cut it started from, every
/// accepted smaller circuit (the last one is the circuit), and what it cost.
/// </summary>
public sealed record RefinementInfo(int UnitsBefore, int NodesBefore, int EdgesBefore, double LossBefore,
    IReadOnlyList<RefinementStep> Steps, int Evaluations, double Seconds, bool Stopped);

/// <summary>
/// Shrinks a cut by backward elimination. The cut is the smallest <em>prefix</em> of a ranking that
/// reaches the target, but once the strong units are kept many weaker ones inside the prefix are
/// not needed. Walking the kept units from the weakest up, a block is dropped when the validation
/// loss without it stays at or below the target; blocks start at a quarter of the cut and halve
/// down to single units (as in delta debugging), so a cut of n units costs at most about 2n
/// evaluations and every accepted state is itself a circuit that reaches the target. Stops early
/// (keeping the last accepted state) when <c>outOfTime</c> says so.
/// </summary>
public static class CircuitRefinement
{
    /// <summary>Upper bound of the evaluations for a cut of <paramref name="units"/> units (for progress bars).</summary>
    public static int MaxEvaluations(int units)
    {
        int total = 0;
        for (int size = FirstBlock(units); size >= 1; size /= 2) total += (units + size - 1) / size;
        return total;
    }

    static int FirstBlock(int units) => Math.Max(1, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(units, 1)) / 4);

    public sealed record Result(bool[] Keep, TaskScore Score, LogitCalibration? Calibration, RefinementInfo Info);

    /// <summary>Refines with a <see cref="KeptSetScorer"/> (validation loss and paper edges from the model).</summary>
    public static Result Run(KeptSetScorer scorer, MaskUnits units, IReadOnlyList<int> keptStrongestFirst, TaskScore cutScore,
        LogitCalibration? cutCalibration, double target, Func<bool>? outOfTime = null, IProgressTask? progress = null) =>
        Run(scorer.Score, scorer.Edges, units, keptStrongestFirst, cutScore, cutCalibration, target, outOfTime, progress);

    /// <param name="score">Loss of a node selection (and its calibration when the search calibrates).</param>
    /// <param name="edges">Edge count of a node selection.</param>
    /// <param name="keptStrongestFirst">The cut's units in ranking order (strongest first).</param>
    public static Result Run(Func<IReadOnlyList<bool>, (TaskScore Score, LogitCalibration? Calibration)> score, Func<IReadOnlyList<bool>, int> edges,
        MaskUnits units, IReadOnlyList<int> keptStrongestFirst, TaskScore cutScore,
        LogitCalibration? cutCalibration, double target, Func<bool>? outOfTime = null, IProgressTask? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int evaluations = 0;
        var kept = keptStrongestFirst.ToList();
        bool[] Keep(IEnumerable<int> keptUnits)
        {
            var keep = new bool[units.Space.Count];
            foreach (int unit in keptUnits)
                foreach (int node in units.NodesOfUnit[unit]) keep[node] = true;
            return keep;
        }
        bool[] current = Keep(kept);
        (TaskScore Score, LogitCalibration? Calibration) best = (cutScore, cutCalibration);
        int nodesBefore = current.Count(b => b), edgesBefore = edges(current);
        var steps = new List<RefinementStep>();
        bool stopped = false;

        for (int size = FirstBlock(kept.Count); size >= 1 && !stopped; size /= 2)
        {
            // Blocks [end - size, end) from the weakest end; dropping one leaves the units before
            // it in place, so accepted or not, the next block ends where this one started.
            for (int end = kept.Count; end > 0 && !stopped; end -= size)
            {
                if (outOfTime?.Invoke() == true) { stopped = true; break; }
                int start = Math.Max(0, end - size);
                var trial = kept.Take(start).Concat(kept.Skip(end)).ToList();
                bool[] keep = Keep(trial);
                var result = score(keep);
                evaluations++;
                progress?.Advance(1);
                if (result.Score.Loss > target) continue;
                kept = trial;
                current = keep;
                best = result;
                int nodes = keep.Count(b => b);
                steps.Add(new RefinementStep(kept.Count, nodes, edges(keep), result.Score.Loss, result.Score.Accuracy));
                progress?.Status($"{nodes} nodes: loss {result.Score.Loss:0.000}");
            }
        }
        var info = new RefinementInfo(keptStrongestFirst.Count, nodesBefore, edgesBefore, cutScore.Loss, steps,
            evaluations, clock.Elapsed.TotalSeconds, stopped);
        return new Result(current, best.Score, best.Calibration, info);
    }
}

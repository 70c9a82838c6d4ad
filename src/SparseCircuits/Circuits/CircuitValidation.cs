using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>Loss and accuracy over random node sets of one size: mean and sample standard deviation.</summary>
public sealed record ControlScores(int Sets, int Size, double LossMean, double LossStd, double AccuracyMean, double AccuracyStd);

/// <summary>The circuit's numbers under zero ablation instead of mean ablation.</summary>
public sealed record ZeroAblationScores(TaskScore Sufficiency, TaskScore Necessity);

/// <summary>
/// docs/method.md, "Validation", on held-out prompts (the test split): the full model; sufficiency
/// (everything outside the circuit mean-ablated); necessity (only the circuit mean-ablated);
/// controls (random node sets of the circuit's size kept, everything else mean-ablated);
/// zero-ablation sufficiency and necessity. All uncalibrated; <paramref name="SufficiencyCalibrated"/>
/// applies the scale and shift fitted to the circuit on val (null when none was given).
/// </summary>
public sealed record CircuitValidationResult(
    string Split,
    TaskScore FullModel,
    TaskScore Sufficiency,
    TaskScore? SufficiencyCalibrated,
    TaskScore Necessity,
    ControlScores Control,
    ZeroAblationScores ZeroAblation);

public static class CircuitValidation
{
    /// <summary>Keeps the control sets' random stream apart from the mask-learning seeds.</summary>
    const ulong ControlSeedSalt = 0x636F6E74726F6CUL; // "control"

    public static CircuitValidationResult Run(SparseGpt model, MeanActivations means, NodeSpace space, IReadOnlyList<bool> keep,
        IReadOnlyList<TaskExample> test, int controlSets, ulong seed, LogitCalibration? calibration, IProgressTask? progress = null)
    {
        using var frozen = new FrozenWeights(model);
        using var mean = new NodeAblation(space, means, AblationKind.Mean);
        using var zero = new NodeAblation(space, means, AblationKind.Zero);
        bool[] complement = keep.Select(k => !k).ToArray();

        TaskScore Score(NodeAblation? ablation, IReadOnlyList<bool>? selection)
        {
            using var scope = NewDisposeScope();
            var result = TaskEvaluator.Score(model, test, ablation is null ? null : ablation.Fixed(selection!));
            progress?.Advance(1);
            return result;
        }

        TaskScore full = Score(null, null);
        double[] sufficiencyD;
        using (NewDisposeScope()) sufficiencyD = TaskEvaluator.LogitDifferences(model, test, mean.Fixed(keep));
        progress?.Advance(1);
        TaskScore sufficiency = TaskEvaluator.Score(sufficiencyD);
        TaskScore? calibrated = calibration is null ? null : TaskEvaluator.Score(calibration.Apply(test, sufficiencyD));
        TaskScore necessity = Score(mean, complement);

        int size = keep.Count(k => k);
        var random = new SplitMix64(seed ^ ControlSeedSalt);
        var controls = new List<TaskScore>();
        for (int s = 0; s < controlSets; s++) controls.Add(Score(mean, RandomSelection(space.Count, size, random)));

        var zeroScores = new ZeroAblationScores(Score(zero, keep), Score(zero, complement));
        return new CircuitValidationResult("test", full, sufficiency, calibrated, necessity, Summarize(controls, size), zeroScores);
    }

    /// <summary>Number of evaluations <see cref="Run"/> makes (for progress bars).</summary>
    public static int Evaluations(int controlSets) => 5 + controlSets;

    /// <summary>Exactly <paramref name="size"/> of <paramref name="count"/> nodes, uniformly (partial Fisher-Yates).</summary>
    public static bool[] RandomSelection(int count, int size, SplitMix64 random)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        var keep = new bool[count];
        for (int i = 0; i < size; i++)
        {
            int j = i + (int)random.NextBelow((ulong)(count - i));
            (order[i], order[j]) = (order[j], order[i]);
            keep[order[i]] = true;
        }
        return keep;
    }

    static ControlScores Summarize(List<TaskScore> scores, int size)
    {
        if (scores.Count == 0) return new ControlScores(0, size, double.NaN, double.NaN, double.NaN, double.NaN);
        static (double Mean, double Std) Stats(IEnumerable<double> values)
        {
            double[] v = values.ToArray();
            double mean = v.Average();
            double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return (mean, std);
        }
        var (lossMean, lossStd) = Stats(scores.Select(s => s.Loss));
        var (accMean, accStd) = Stats(scores.Select(s => s.Accuracy));
        return new ControlScores(scores.Count, size, lossMean, lossStd, accMean, accStd);
    }
}

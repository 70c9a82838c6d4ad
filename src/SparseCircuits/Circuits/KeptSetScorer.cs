using SparseCircuits.Model;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>
/// The one measurement the cut and the refinement make: the task loss on the validation prompts
/// with only the kept nodes running and every other node at its baseline — calibrated (scale and
/// shift fitted on those prompts) when the search calibrates — and the circuit's edge count.
/// Counts its evaluations so callers can report the cost.
/// </summary>
public sealed class KeptSetScorer(SparseGpt model, NodeAblation ablation, IReadOnlyList<TaskExample> prompts, bool calibrate)
{
    public int Evaluations { get; private set; }

    public (TaskScore Score, LogitCalibration? Calibration) Score(IReadOnlyList<bool> keep)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        double[] d = TaskEvaluator.LogitDifferences(model, prompts, ablation.Fixed(keep));
        LogitCalibration? calibration = calibrate ? LogitCalibration.Fit(prompts, d) : null;
        Evaluations++;
        return (TaskEvaluator.Score(calibration is null ? d : calibration.Apply(prompts, d)), calibration);
    }

    /// <summary>The paper's edges (nonzero weights between kept nodes) of a selection.</summary>
    public int Edges(IReadOnlyList<bool> keep) => CircuitGraph.PaperEdgeCount(CircuitGraph.Edges(model, ablation.Space.Selected(keep)));
}

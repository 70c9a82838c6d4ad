using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Reports;

/// <summary>
/// How much each part of a circuit matters, in circuit mode (everything outside the circuit
/// ablated): the task loss of the circuit itself, of the circuit without one node, and of the
/// circuit without one layer's nodes. One evaluation per node and layer through
/// <see cref="NodeAblation.Fixed"/>, on the prompts given (callers cap them).
/// </summary>
public static class NodeAblationLosses
{
    /// <summary>
    /// Prompts per forward pass. Batches are length-sorted and right-padded to their longest
    /// prompt; task prompts run from a few to ~200 tokens, so one batch of 64 would be about half
    /// padding. Small batches keep the padding, and so most of the time, away.
    /// </summary>
    public const int BatchSize = 16;

    /// <param name="Reference">the circuit's own loss</param>
    /// <param name="WithoutNode">per circuit node (in the order given): the loss with that node also ablated</param>
    /// <param name="WithoutLayer">per layer: the loss with that layer's circuit nodes also ablated (the reference when it has none)</param>
    public sealed record Result(double Reference, IReadOnlyList<double> WithoutNode, IReadOnlyList<double> WithoutLayer);

    /// <summary>Evaluations <see cref="Measure"/> makes (for progress bars).</summary>
    public static int Evaluations(IReadOnlyList<NodeId> circuit) => 1 + circuit.Count + circuit.Select(n => n.Layer).Distinct().Count();

    public static Result Measure(SparseGpt model, NodeAblation ablation, IReadOnlyList<NodeId> circuit, IReadOnlyList<TaskExample> prompts,
        IProgressTask? progress = null)
    {
        NodeSpace space = ablation.Space;
        bool[] keep = space.Selection(circuit);
        double Loss(IEnumerable<NodeId> removed)
        {
            bool[] selection = (bool[])keep.Clone();
            foreach (NodeId n in removed) selection[space.IndexOf(n)] = false;
            using var scope = NewDisposeScope();
            double loss = TaskEvaluator.Score(model, prompts, ablation.Fixed(selection), BatchSize).Loss;
            progress?.Advance(1);
            return loss;
        }

        double reference = Loss([]);
        var withoutNode = circuit.Select(n => Loss([n])).ToList();
        var withoutLayer = Enumerable.Range(0, model.Config.NLayer).Select(layer =>
        {
            var nodes = circuit.Where(n => n.Layer == layer).ToList();
            return nodes.Count == 0 ? reference : Loss(nodes);
        }).ToList();
        return new Result(reference, withoutNode, withoutLayer);
    }
}

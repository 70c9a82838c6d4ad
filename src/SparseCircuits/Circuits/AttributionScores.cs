using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>
/// The baseline ranking: attribution patching. For each prompt and node, the first-order change
/// of that prompt's task loss when the node is set to its baseline at every position is
/// sum_t dLoss/dx_t * (x_t - baseline); a node's score is the absolute value of that, summed over
/// prompts. Computed with the same ablation hooks as pruning: a per-prompt mask of ones whose
/// gradient is exactly that sum.
/// </summary>
public static class AttributionScores
{
    /// <summary>One score per node (in <see cref="NodeSpace"/> order) over <paramref name="examples"/>.</summary>
    public static double[] Compute(SparseGpt model, NodeAblation ablation, IReadOnlyList<TaskExample> examples, int batchSize = 64,
        IProgressTask? progress = null)
    {
        TorchRuntime.EnsureInitialized();
        using var frozen = new FrozenWeights(model);
        var scores = new double[ablation.Space.Count];
        for (int start = 0; start < examples.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = examples.Skip(start).Take(batchSize).ToList();
            TaskBatch batch = TaskBatch.From(chunk);
            Tensor mask = ones([chunk.Count, ablation.Space.Count], ScalarType.Float32).requires_grad_(true); // (B, nodes)
            Tensor perPrompt = TaskLoss.PerPrompt(TaskLoss.LogitDifference(model.LogitsAt(batch.Tokens, batch.LastPosition, ablation.Masked(mask)), batch));
            perPrompt.sum().backward();
            float[] batchScores = mask.grad!.abs().sum([0]).data<float>().ToArray();
            for (int i = 0; i < scores.Length; i++) scores[i] += batchScores[i];
            progress?.Advance(chunk.Count);
        }
        return scores;
    }
}

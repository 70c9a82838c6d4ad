using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tasks;

/// <summary>
/// The one scoring path for tasks: logit differences at each prompt's last position, batched by
/// prompt length (right-padded; sorting keeps padding small), then <see cref="TaskScore"/>s.
/// <c>tasks eval</c> scores a <see cref="TaskDataset"/>; pruning, validation and the report score
/// lists of <see cref="TaskExample"/>s, optionally through hooks that mask or ablate nodes.
/// </summary>
public static class TaskEvaluator
{
    public const int DefaultBatchSize = 128;

    /// <summary>
    /// d = logit(correct) - logit(wrong) at the last position of every prompt, in the order of
    /// <paramref name="examples"/>, with <paramref name="model"/> in eval mode and no gradients;
    /// <paramref name="hooks"/> (built in the caller's scope) apply to every batch.
    /// </summary>
    public static double[] LogitDifferences(SparseGpt model, IReadOnlyList<TaskExample> examples, Hooks? hooks = null,
        int batchSize = DefaultBatchSize, IProgressTask? progress = null)
    {
        using var mode = EvalMode.Of(model);
        using var _ = no_grad();
        // Only the last prompt position is scored: skip the unembedding everywhere else.
        return LogitDifferences(batch => model.LogitsAt(batch.Tokens, batch.LastPosition, hooks), examples, batchSize, progress);
    }

    /// <summary>The same for any function from a batch to the logits (B, vocab) at its last positions; gradients are the caller's choice.</summary>
    public static double[] LogitDifferences(Func<TaskBatch, Tensor> lastLogits, IReadOnlyList<TaskExample> examples,
        int batchSize = DefaultBatchSize, IProgressTask? progress = null)
    {
        if (batchSize < 1) throw new SparseCircuitsException($"batch size must be >= 1 (got {batchSize})");
        var order = Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].PromptIds.Length).ThenBy(i => i).ToArray();
        var result = new double[examples.Count];
        for (int start = 0; start < order.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int[] indices = order[start..Math.Min(order.Length, start + batchSize)];
            TaskBatch batch = TaskBatch.From(indices.Select(i => examples[i]).ToList());
            double[] d = TaskLoss.LogitDifference(lastLogits(batch), batch).detach().to(ScalarType.Float64).data<double>().ToArray();
            for (int j = 0; j < indices.Length; j++) result[indices[j]] = d[j];
            progress?.Advance(indices.Length);
        }
        return result;
    }

    /// <summary>Mean loss, accuracy and logit difference of per-prompt logit differences.</summary>
    public static TaskScore Score(IReadOnlyList<double> logitDifferences)
    {
        double loss = 0, sum = 0;
        int correct = 0;
        foreach (double d in logitDifferences)
        {
            loss += TaskLoss.PerPrompt(d);
            if (d > 0) correct++;
            sum += d;
        }
        int n = logitDifferences.Count;
        return n == 0 ? new TaskScore(double.NaN, double.NaN, 0, double.NaN) : new TaskScore(loss / n, (double)correct / n, n, sum / n);
    }

    /// <summary>The score of <paramref name="model"/> (through <paramref name="hooks"/>) on <paramref name="examples"/>.</summary>
    public static TaskScore Score(SparseGpt model, IReadOnlyList<TaskExample> examples, Hooks? hooks = null, int batchSize = DefaultBatchSize) =>
        Score(LogitDifferences(model, examples, hooks, batchSize));

    /// <summary>Scores both prompts of every pair of <paramref name="data"/>.</summary>
    public static TaskScore Evaluate(SparseGpt model, TaskDataset data, int batchSize = DefaultBatchSize, Hooks? hooks = null, IProgressTask? progress = null) =>
        Score(LogitDifferences(model, Examples(data), hooks, batchSize, progress));

    /// <summary>Scores both prompts of every pair of <paramref name="data"/>, also each side alone (positive prompts, negative prompts).</summary>
    public static SidedTaskScore EvaluateBySide(SparseGpt model, TaskDataset data, int batchSize = DefaultBatchSize, IProgressTask? progress = null) =>
        BySide(LogitDifferences(model, Examples(data), null, batchSize, progress));

    /// <summary>Scores of per-prompt logit differences listed pair by pair, positive prompt first (as <see cref="TaskExample.FromPairs"/> lists them).</summary>
    public static SidedTaskScore BySide(IReadOnlyList<double> pairOrderedDifferences) =>
        new(Score(pairOrderedDifferences),
            Score(pairOrderedDifferences.Where((_, i) => i % 2 == 0).ToList()),
            Score(pairOrderedDifferences.Where((_, i) => i % 2 == 1).ToList()));

    /// <summary>
    /// Scores <paramref name="data"/> with any forward function tokens (B, T) int64 -&gt; logits
    /// (B, T, vocab), for callers that run the model their own way (a pruning mask, a bridge).
    /// </summary>
    public static TaskScore Evaluate(Func<Tensor, Tensor> forward, TaskDataset data, int batchSize = DefaultBatchSize, IProgressTask? progress = null) =>
        Score(LogitDifferences(batch => batch.LastLogits(forward(batch.Tokens)), Examples(data), batchSize, progress));

    static List<TaskExample> Examples(TaskDataset data)
    {
        if (data.Pairs.Count == 0) throw new SparseCircuitsException($"task {data.Name} has no pairs to evaluate{(data.UnavailableReason is null ? "" : ": " + data.UnavailableReason)}");
        return TaskExample.FromPairs(data.Pairs);
    }
}

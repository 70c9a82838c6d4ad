using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tasks;

/// <summary>
/// Task loss, accuracy and logit difference of a model on a <see cref="TaskDataset"/>. Prompts
/// are batched (right-padded, sorted by length to keep padding small); the score is read at each
/// prompt's last position over the two answers only.
/// </summary>
public static class TaskEvaluator
{
    /// <summary>Evaluates <paramref name="model"/> in eval mode without gradients; <paramref name="hooks"/> may mask or ablate activations.</summary>
    public static TaskScore Evaluate(SparseGpt model, TaskDataset data, int batchSize = 32, Hooks? hooks = null, IProgressTask? progress = null)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            // Only the last prompt position is scored: skip the unembedding everywhere else.
            return Evaluate((TaskBatch batch) => model.LogitsAt(batch.Tokens, batch.LastIndex, hooks), data, batchSize, progress);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>
    /// Evaluates any forward function tokens (B, T) int64 -&gt; logits (B, T, vocab), for callers
    /// that run the model their own way (a pruning mask, a bridge). Gradients are whatever the
    /// caller set up.
    /// </summary>
    public static TaskScore Evaluate(Func<Tensor, Tensor> forward, TaskDataset data, int batchSize = 32, IProgressTask? progress = null) =>
        Evaluate((TaskBatch batch) => batch.LastLogits(forward(batch.Tokens)), data, batchSize, progress);

    /// <summary>Evaluates a function from a batch to the logits (B, vocab) at each prompt's last position.</summary>
    public static TaskScore Evaluate(Func<TaskBatch, Tensor> lastLogits, TaskDataset data, int batchSize = 32, IProgressTask? progress = null)
    {
        if (batchSize < 1) throw new SparseCircuitsException($"batch size must be >= 1 (got {batchSize})");
        if (data.Pairs.Count == 0) throw new SparseCircuitsException($"task {data.Name} has no pairs to evaluate{(data.UnavailableReason is null ? "" : ": " + data.UnavailableReason)}");
        var ordered = data.Pairs.OrderBy(p => Math.Max(p.Positive.Length, p.Negative.Length)).ToList();
        var differences = new List<double>(2 * ordered.Count);
        for (int start = 0; start < ordered.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = ordered.GetRange(start, Math.Min(batchSize, ordered.Count - start));
            TaskBatch batch = TaskBatch.Build(chunk);
            Tensor difference = batch.LogitDifference(lastLogits(batch));
            differences.AddRange(difference.detach().to(ScalarType.Float64).data<double>().ToArray());
            progress?.Advance(chunk.Count);
        }
        return Score(data.Name, differences);
    }

    /// <summary>Summarises per-prompt correct-minus-wrong logit differences (two per pair).</summary>
    public static TaskScore Score(string task, IReadOnlyList<double> differences)
    {
        double loss = 0, correct = 0, sum = 0;
        foreach (double d in differences)
        {
            loss += Softplus(-d);
            if (d > 0) correct++;
            sum += d;
        }
        int n = differences.Count;
        return new TaskScore(task, n / 2, loss / n, correct / n, sum / n);
    }

    /// <summary>Binary cross-entropy of one prompt whose correct answer leads by <paramref name="difference"/> logits: log(1 + e^-d).</summary>
    public static double PromptLoss(double difference) => Softplus(-difference);

    /// <summary>
    /// Differentiable task loss for logits (2B, vocab) at the last positions: mean over prompts of
    /// softplus(-(correct - wrong)), the quantity pruning drives below its target.
    /// </summary>
    public static Tensor Loss(TaskBatch batch, Tensor lastLogits) => PromptLoss(batch.LogitDifference(lastLogits)).mean();

    /// <summary>Per-prompt loss from logit differences d = logit(correct) - logit(wrong): softplus(-d). The one definition of the task loss.</summary>
    public static Tensor PromptLoss(Tensor difference) => nn.functional.softplus(-difference);

    static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
}

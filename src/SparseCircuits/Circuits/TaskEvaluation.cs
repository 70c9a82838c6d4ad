using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>Task loss (<see cref="TaskLoss"/>) and accuracy over a list of prompts.</summary>
public sealed record TaskScore(double Loss, double Accuracy, int Prompts);

/// <summary>Runs a model (optionally through hooks) over task prompts and scores the answers.</summary>
public static class TaskEvaluation
{
    public const int DefaultBatchSize = 128;

    /// <summary>
    /// d = logit(correct) - logit(wrong) at the last position of every prompt, in the order of
    /// <paramref name="examples"/>. Prompts are batched by length to keep padding small;
    /// <paramref name="hooks"/> (built in the caller's scope) apply to every batch.
    /// </summary>
    public static double[] LogitDifferences(SparseGpt model, IReadOnlyList<TaskExample> examples, Hooks? hooks, int batchSize = DefaultBatchSize)
    {
        var order = Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].PromptIds.Length).ThenBy(i => i).ToArray();
        var result = new double[examples.Count];
        using var _ = no_grad();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int[] indices = order[start..Math.Min(order.Length, start + batchSize)];
            TaskBatch batch = TaskBatch.From(indices.Select(i => examples[i]).ToList());
            float[] d = TaskLoss.LogitDifference(TaskLoss.LastLogits(model, batch, hooks), batch).to(ScalarType.Float32).data<float>().ToArray();
            for (int j = 0; j < indices.Length; j++) result[indices[j]] = d[j];
        }
        return result;
    }

    /// <summary>Mean loss and accuracy from logit differences, after <paramref name="calibration"/> when given.</summary>
    public static TaskScore Score(IReadOnlyList<TaskExample> examples, double[] logitDifferences, LogitCalibration? calibration = null)
    {
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < logitDifferences.Length; i++)
        {
            double d = calibration?.Apply(examples[i], logitDifferences[i]) ?? logitDifferences[i];
            loss += TaskLoss.PerPrompt(d);
            if (d > 0) correct++;
        }
        int n = logitDifferences.Length;
        return new TaskScore(loss / n, (double)correct / n, n);
    }

    public static TaskScore Score(SparseGpt model, IReadOnlyList<TaskExample> examples, Hooks? hooks, LogitCalibration? calibration = null) =>
        Score(examples, LogitDifferences(model, examples, hooks), calibration);
}

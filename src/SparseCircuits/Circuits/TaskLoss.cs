using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>
/// The task loss of docs/method.md ("The task suite"), in one place: at the last prompt position,
/// softmax over {correct, wrong} only, binary cross-entropy, mean over prompts. With
/// d = logit(correct) - logit(wrong) that is softplus(-d) per prompt; a prompt counts as correct
/// when d &gt; 0. The official code sums the two prompts of a contrast pair, which is 2x this
/// mean; we report the mean (target 0.15 refers to it).
/// </summary>
public static class TaskLoss
{
    /// <summary>Logits (B, vocab) at each prompt's last position, from the model's one forward pass.</summary>
    public static Tensor LastLogits(SparseGpt model, TaskBatch batch, Hooks? hooks) => model.LogitsAt(batch.Tokens, batch.LastPosition, hooks);

    /// <summary>d = logit(correct) - logit(wrong) per prompt, from <see cref="LastLogits"/> (B, vocab).</summary>
    public static Tensor LogitDifference(Tensor lastLogits, TaskBatch batch)
    {
        long B = lastLogits.shape[0];
        return lastLogits.gather(1, batch.Correct.view(B, 1)).squeeze(1) - lastLogits.gather(1, batch.Wrong.view(B, 1)).squeeze(1); // (B)
    }

    /// <summary>Binary cross-entropy per prompt from its logit difference d: softplus(-d) (the task suite's definition).</summary>
    public static Tensor PerPrompt(Tensor logitDifference) => Tasks.TaskEvaluator.PromptLoss(logitDifference);

    /// <summary>The task loss of a batch: mean over its prompts.</summary>
    public static Tensor Mean(Tensor lastLogits, TaskBatch batch) => PerPrompt(LogitDifference(lastLogits, batch)).mean();

    /// <summary>The same loss for one prompt in double precision (for scores computed from stored differences).</summary>
    public static double PerPrompt(double logitDifference) => Tasks.TaskEvaluator.PromptLoss(logitDifference);
}

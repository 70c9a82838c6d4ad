using static TorchSharp.torch;

namespace SparseCircuits.Tasks;

/// <summary>
/// The task loss of docs/method.md ("The task suite"), in one place: at the last prompt position,
/// softmax over {correct, wrong} only, binary cross-entropy, mean over prompts. With
/// d = logit(correct) - logit(wrong) that is softplus(-d) per prompt; a prompt counts as correct
/// when d &gt; 0. The official code sums the two prompts of a contrast pair, which is 2x this
/// mean; we report the mean (the target 0.15 refers to it).
/// </summary>
public static class TaskLoss
{
    /// <summary>d = logit(correct) - logit(wrong) per prompt, from logits (B, vocab) at the last positions.</summary>
    public static Tensor LogitDifference(Tensor lastLogits, TaskBatch batch)
    {
        long B = lastLogits.shape[0];
        return lastLogits.gather(1, batch.Correct.view(B, 1)).squeeze(1) - lastLogits.gather(1, batch.Wrong.view(B, 1)).squeeze(1); // (B)
    }

    /// <summary>Binary cross-entropy per prompt from its logit difference d: softplus(-d).</summary>
    public static Tensor PerPrompt(Tensor logitDifference) => nn.functional.softplus(-logitDifference);

    /// <summary>The task loss of a batch: mean over its prompts (differentiable; what pruning drives below its target).</summary>
    public static Tensor Mean(Tensor lastLogits, TaskBatch batch) => PerPrompt(LogitDifference(lastLogits, batch)).mean();

    /// <summary>The same loss for one prompt in double precision: log(1 + e^-d).</summary>
    public static double PerPrompt(double logitDifference) => Math.Max(-logitDifference, 0) + Math.Log(1 + Math.Exp(-Math.Abs(logitDifference)));
}

using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>
/// Prompts of different lengths in one forward pass: right-padded to the longest (causal
/// attention keeps padding from reaching earlier positions), with each prompt's last position
/// and its correct and wrong token ids. Tensors belong to the caller's dispose scope.
/// </summary>
public sealed class TaskBatch
{
    /// <summary>(B, T) int64 prompt tokens, padded on the right with the prompt's own last token.</summary>
    public required Tensor Tokens { get; init; }
    /// <summary>(B) int64 index of each prompt's last token.</summary>
    public required Tensor LastPosition { get; init; }
    public required Tensor Correct { get; init; }
    public required Tensor Wrong { get; init; }
    public int Count { get; init; }

    public static TaskBatch From(IReadOnlyList<TaskExample> examples)
    {
        if (examples.Count == 0) throw new ArgumentException("a task batch needs at least one prompt");
        int B = examples.Count, T = examples.Max(e => e.PromptIds.Length);
        var tokens = new long[B * T];
        var last = new long[B];
        var correct = new long[B];
        var wrong = new long[B];
        for (int b = 0; b < B; b++)
        {
            int[] ids = examples[b].PromptIds;
            for (int t = 0; t < T; t++) tokens[b * T + t] = ids[Math.Min(t, ids.Length - 1)];
            last[b] = ids.Length - 1;
            correct[b] = examples[b].CorrectId;
            wrong[b] = examples[b].WrongId;
        }
        return new TaskBatch
        {
            Tokens = tensor(tokens).view(B, T), LastPosition = tensor(last), Correct = tensor(correct), Wrong = tensor(wrong), Count = B,
        };
    }
}

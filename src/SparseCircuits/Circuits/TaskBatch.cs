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
        var (tokens, last, T) = Tasks.PromptPadding.Pad(examples.Select(e => e.PromptIds).ToList(), padId: null);
        int B = examples.Count;
        return new TaskBatch
        {
            Tokens = tensor(tokens).view(B, T), LastPosition = tensor(last),
            Correct = tensor(examples.Select(e => (long)e.CorrectId).ToArray()), Wrong = tensor(examples.Select(e => (long)e.WrongId).ToArray()),
            Count = B,
        };
    }
}

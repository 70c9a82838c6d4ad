using static TorchSharp.torch;

namespace SparseCircuits.Tasks;

/// <summary>
/// Prompts of different lengths in one forward pass: right-padded to the longest with each
/// prompt's own last token (causal attention keeps padding from reaching earlier positions, and
/// every id stays in the vocabulary), with each prompt's last position and its correct and wrong
/// token ids. Tensors belong to the caller's dispose scope.
/// </summary>
public sealed class TaskBatch
{
    /// <summary>(B, T) int64 prompt tokens.</summary>
    public required Tensor Tokens { get; init; }
    /// <summary>(B) int64 index of each prompt's last token.</summary>
    public required Tensor LastPosition { get; init; }
    /// <summary>(B) int64 correct answer ids.</summary>
    public required Tensor Correct { get; init; }
    /// <summary>(B) int64 wrong answer ids.</summary>
    public required Tensor Wrong { get; init; }
    public int Count { get; init; }

    public static TaskBatch From(IReadOnlyList<TaskExample> examples)
    {
        if (examples.Count == 0) throw new ArgumentException("a task batch needs at least one prompt", nameof(examples));
        int B = examples.Count, T = examples.Max(e => e.PromptIds.Length);
        var tokens = new long[B * T];
        var last = new long[B];
        for (int row = 0; row < B; row++)
        {
            int[] prompt = examples[row].PromptIds;
            for (int t = 0; t < T; t++) tokens[row * T + t] = prompt[Math.Min(t, prompt.Length - 1)];
            last[row] = prompt.Length - 1;
        }
        return new TaskBatch
        {
            Tokens = tensor(tokens).view(B, T), LastPosition = tensor(last),
            Correct = tensor(examples.Select(e => (long)e.CorrectId).ToArray()), Wrong = tensor(examples.Select(e => (long)e.WrongId).ToArray()),
            Count = B,
        };
    }

    /// <summary>Logits (B, vocab) at each prompt's last position, from a model's full (B, T, vocab).</summary>
    public Tensor LastLogits(Tensor logits)
    {
        long vocab = logits.shape[2];
        return logits.gather(1, LastPosition.view(-1, 1, 1).expand(-1, 1, vocab)).squeeze(1);
    }
}

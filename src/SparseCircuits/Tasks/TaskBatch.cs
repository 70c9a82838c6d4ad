using static TorchSharp.torch;

namespace SparseCircuits.Tasks;

/// <summary>
/// Prompts of several pairs as one right-padded batch: row 2i is pair i's positive prompt, row
/// 2i+1 its negative. Padding comes after each prompt's last token, so with causal attention it
/// cannot change the logits read at <see cref="LastIndex"/>. Tensors belong to the caller's
/// dispose scope.
/// </summary>
public sealed class TaskBatch
{
    /// <summary>(2B, T) int64 token ids, padded with the pad id.</summary>
    public required Tensor Tokens { get; init; }

    /// <summary>(2B) int64: each row's last prompt position.</summary>
    public required Tensor LastIndex { get; init; }

    /// <summary>(2B) int64: the pair's tok id.</summary>
    public required Tensor Tok { get; init; }

    /// <summary>(2B) int64: the pair's alt id.</summary>
    public required Tensor Alt { get; init; }

    /// <summary>(2B) bool: true where tok is the correct answer (positive rows).</summary>
    public required Tensor CorrectIsTok { get; init; }

    public static TaskBatch Build(IReadOnlyList<EncodedPair> pairs, int padId = 0)
    {
        if (pairs.Count == 0) throw new ArgumentException("a batch needs at least one pair", nameof(pairs));
        var prompts = pairs.SelectMany(p => new[] { p.Positive, p.Negative }).ToList(); // row 2i positive, 2i+1 negative
        var (tokens, last, T) = PromptPadding.Pad(prompts, padId);
        return new TaskBatch
        {
            Tokens = tensor(tokens).view(prompts.Count, T),
            LastIndex = tensor(last),
            Tok = tensor(pairs.SelectMany(p => new long[] { p.TokId, p.TokId }).ToArray()),
            Alt = tensor(pairs.SelectMany(p => new long[] { p.AltId, p.AltId }).ToArray()),
            CorrectIsTok = tensor(pairs.SelectMany(_ => new[] { true, false }).ToArray()),
        };
    }

    /// <summary>Logits (2B, vocab) at each row's last prompt position, from the model's (2B, T, vocab).</summary>
    public Tensor LastLogits(Tensor logits)
    {
        long vocab = logits.shape[2];
        Tensor index = LastIndex.view(-1, 1, 1).expand(-1, 1, vocab); // (2B, 1, vocab)
        return logits.gather(1, index).squeeze(1); // (2B, vocab)
    }

    /// <summary>
    /// Correct-minus-wrong logit difference (2B) for logits (2B, vocab) at the last position.
    /// The binary task loss of each prompt is softplus(-difference).
    /// </summary>
    public Tensor LogitDifference(Tensor lastLogits)
    {
        Tensor tokLogit = lastLogits.gather(1, Tok.view(-1, 1)).squeeze(1);
        Tensor altLogit = lastLogits.gather(1, Alt.view(-1, 1)).squeeze(1);
        return where(CorrectIsTok, tokLogit - altLogit, altLogit - tokLogit);
    }
}

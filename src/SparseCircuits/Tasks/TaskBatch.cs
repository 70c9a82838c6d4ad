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
        int rows = 2 * pairs.Count;
        int T = pairs.Max(p => Math.Max(p.Positive.Length, p.Negative.Length));
        var tokens = new long[rows * T];
        Array.Fill(tokens, padId);
        var last = new long[rows];
        var tok = new long[rows];
        var alt = new long[rows];
        var correctIsTok = new bool[rows];
        for (int i = 0; i < pairs.Count; i++)
        {
            EncodedPair p = pairs[i];
            for (int side = 0; side < 2; side++)
            {
                int row = 2 * i + side;
                int[] prompt = side == 0 ? p.Positive : p.Negative;
                for (int t = 0; t < prompt.Length; t++) tokens[row * T + t] = prompt[t];
                last[row] = prompt.Length - 1;
                tok[row] = p.TokId;
                alt[row] = p.AltId;
                correctIsTok[row] = side == 0;
            }
        }
        return new TaskBatch
        {
            Tokens = tensor(tokens).view(rows, T),
            LastIndex = tensor(last),
            Tok = tensor(tok),
            Alt = tensor(alt),
            CorrectIsTok = tensor(correctIsTok),
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

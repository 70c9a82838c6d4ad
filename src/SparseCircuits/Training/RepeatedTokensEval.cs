using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// The induction check of Olsson et al. (2022): sequences of random tokens shown twice. The first
/// copy is unpredictable (about ln(vocab) nats/token); a model that can look back, find the earlier
/// occurrence of the current token and copy what followed it (an induction circuit) predicts the
/// second copy almost exactly. The tasks that carry a name from an earlier line (<c>var_swap</c>,
/// <c>class_init</c>, <c>set_or_string</c>) need that ability, so the gap between the copies says
/// whether a model has it, independently of any task template.
/// </summary>
public static class RepeatedTokensEval
{
    /// <param name="FirstCopyLoss">mean loss on tokens 2..L of the first copy (nats/token)</param>
    /// <param name="SecondCopyLoss">mean loss on tokens 2..L of the second copy</param>
    public sealed record Result(int Sequences, int Length, double FirstCopyLoss, double SecondCopyLoss)
    {
        /// <summary>How much the repetition helps: first minus second copy (nats/token); 0 without induction.</summary>
        public double InductionGain => FirstCopyLoss - SecondCopyLoss;
    }

    /// <summary>The length `circuits eval --repeated-tokens` and the scorecard use: 64, or half the context when that is shorter (both copies must fit).</summary>
    public static int DefaultLength(int nCtx) => Math.Min(64, nCtx / 2);

    /// <summary>
    /// <paramref name="sequences"/> sequences of <paramref name="length"/> uniform random token ids
    /// (seeded), each followed by itself. Token 1 of each copy has nothing to be predicted from and is
    /// not scored; tokens 2..L are, in both copies.
    /// </summary>
    public static Result Measure(SparseGpt model, int sequences = 64, int length = 64, ulong seed = 0)
    {
        using var mode = EvalMode.Of(model);
        return Measure(x => model.forward(x), model.Config.VocabSize, model.Config.NCtx, sequences, length, seed);
    }

    /// <summary>The same with any next-token function (B, T) ids -> (B, T, vocab) logits.</summary>
    public static Result Measure(Func<Tensor, Tensor> logitsOf, int vocabSize, int nCtx, int sequences = 64, int length = 64, ulong seed = 0)
    {
        if (sequences < 1) throw new SparseCircuitsException($"repeated tokens: sequences must be >= 1; got {sequences}");
        if (length < 2 || 2 * length > nCtx)
            throw new SparseCircuitsException($"repeated tokens: length must be in [2, n_ctx / 2 = {nCtx / 2}]; got {length}");
        var rng = new SplitMix64(seed);
        var ids = new long[sequences * 2 * length];
        for (int s = 0; s < sequences; s++)
            for (int t = 0; t < length; t++)
                ids[s * 2 * length + t] = ids[s * 2 * length + length + t] = (long)rng.NextBelow((ulong)vocabSize);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor tokens = tensor(ids).view(sequences, 2 * length);
        Tensor logits = logitsOf(tokens.narrow(1, 0, 2 * length - 1)); // position p predicts token p + 1
        Tensor losses = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]).to(ScalarType.Float32),
            tokens.narrow(1, 1, 2 * length - 1).reshape(-1), reduction: nn.Reduction.None).view(sequences, 2 * length - 1);
        // Targets 1..L-1 are the first copy's tokens 2..L; targets L+1..2L-1 the second copy's (target L is its unpredictable first token).
        double first = losses.narrow(1, 0, length - 1).mean().item<float>();
        double second = losses.narrow(1, length, length - 1).mean().item<float>();
        return new Result(sequences, length, first, second);
    }
}

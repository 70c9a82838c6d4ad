using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>Next-token loss on fixed windows of a shard, with a unigram baseline to compare against.</summary>
public static class LanguageModelEval
{
    /// <param name="TokenBytes">UTF-8 bytes of the predicted tokens, when known (for bits per byte)</param>
    public sealed record Result(double LossNats, long Tokens, long? TokenBytes)
    {
        public double? BitsPerByte => TokenBytes is long b && b > 0 ? LossNats * Tokens / (b * Math.Log(2)) : null;
    }

    /// <summary>Mean cross-entropy (nats/token) over the first <paramref name="maxTokens"/> predicted tokens of the shard.</summary>
    /// <param name="bytesOfToken">optional: UTF-8 length of each token id, to report bits per byte</param>
    public static Result Loss(SparseGpt model, TokenShard shard, long maxTokens, int batchSize = 8, int[]? bytesOfToken = null,
        IProgressTask? progress = null)
    {
        int T = model.Config.NCtx;
        using var mode = EvalMode.Of(model);
        double total = 0;
        long tokens = 0, bytes = 0;
        using (no_grad())
        {
            foreach (long[] windows in SequentialWindows.Batches(shard, batchSize, T, maxTokens))
            {
                using var scope = NewDisposeScope();
                int B = windows.Length / (T + 1);
                Tensor batch = tensor(windows).view(B, T + 1);
                Tensor x = batch.narrow(1, 0, T), y = batch.narrow(1, 1, T);
                Tensor logits = model.forward(x);
                total += nn.functional.cross_entropy(logits.view(-1, logits.shape[2]), y.reshape(-1), reduction: nn.Reduction.Sum).item<float>();
                tokens += (long)B * T;
                if (bytesOfToken is not null)
                    for (int b = 0; b < B; b++)
                        for (int t = 1; t <= T; t++) bytes += bytesOfToken[windows[b * (T + 1) + t]];
                progress?.Advance((double)B * T);
            }
        }
        if (tokens == 0) throw new SparseCircuitsException($"shard {shard.Path} is shorter than one window of {T + 1} tokens; nothing to evaluate");
        return new Result(total / tokens, tokens, bytesOfToken is null ? null : bytes);
    }

    /// <summary>
    /// Cross-entropy of an add-one-smoothed unigram model counted on <paramref name="train"/> (first
    /// <paramref name="countTokens"/> tokens) over the same targets <see cref="Loss"/> scores: the
    /// floor a language model must clearly beat.
    /// </summary>
    public static double UnigramBaseline(TokenShard train, TokenShard eval, int vocabSize, int contextLength, long maxTokens,
        long countTokens = 50_000_000)
    {
        var counts = new double[vocabSize];
        long n = Math.Min(train.Length, countTokens);
        const int chunk = 1 << 20;
        for (long start = 0; start < n; start += chunk)
            foreach (ushort id in train.Slice(start, (int)Math.Min(chunk, n - start))) counts[id]++;
        double denominator = n + vocabSize;
        double total = 0;
        long tokens = 0;
        foreach (long[] windows in SequentialWindows.Batches(eval, 64, contextLength, maxTokens))
        {
            for (int i = 0; i < windows.Length; i++)
            {
                if (i % (contextLength + 1) == 0) continue; // the first token of a window is only context
                total -= Math.Log((counts[windows[i]] + 1) / denominator);
                tokens++;
            }
        }
        return tokens == 0 ? double.NaN : total / tokens;
    }
}

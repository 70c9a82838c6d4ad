using SparseCircuits.Core;
using SparseCircuits.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

public sealed record SamplingOptions(int MaxTokens = 200, double Temperature = 0.8, int TopK = 40, ulong Seed = 0, bool StopAtEndOfText = true)
{
    public SamplingOptions Validate()
    {
        if (MaxTokens < 1) throw new SparseCircuitsException($"--tokens must be >= 1 (got {MaxTokens})");
        if (!(Temperature >= 0 && double.IsFinite(Temperature))) throw new SparseCircuitsException($"--temperature must be >= 0 (got {Temperature})");
        if (TopK < 0) throw new SparseCircuitsException($"--top-k must be >= 0, 0 meaning all tokens (got {TopK})");
        return this;
    }
}

/// <summary>Autoregressive sampling (temperature, top-k; temperature 0 is greedy), cropping to the model's context.</summary>
public static class TextSampler
{
    public static int[] Generate(SparseGpt model, IReadOnlyList<int> prompt, SamplingOptions options, int? endOfTextId = null,
        CancellationToken cancellation = default)
    {
        options.Validate();
        if (prompt.Count == 0) throw new SparseCircuitsException("the prompt encodes to no tokens");
        var tokens = prompt.ToList();
        var random = new SplitMix64(options.Seed);
        using var _ = no_grad();
        for (int i = 0; i < options.MaxTokens; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var context = tokens.Skip(Math.Max(0, tokens.Count - model.Config.NCtx)).Select(t => (long)t).ToArray();
            Tensor logits = model.forward(tensor(context).view(1, -1)).select(1, -1).squeeze(0).to(ScalarType.Float64); // (vocab)
            int next = Choose(logits, options, random);
            if (options.StopAtEndOfText && next == endOfTextId) break;
            tokens.Add(next);
        }
        return tokens.Skip(prompt.Count).ToArray();
    }

    /// <summary>
    /// The <paramref name="count"/> most likely next tokens after <paramref name="prompt"/> (cropped
    /// to the model's context) with their probabilities, most likely first: what the model expects
    /// at one position, e.g. to see which token a task prompt's answer competes with.
    /// </summary>
    public static IReadOnlyList<(int Id, double Probability)> NextTokens(SparseGpt model, IReadOnlyList<int> prompt, int count)
    {
        if (prompt.Count == 0) throw new SparseCircuitsException("the prompt encodes to no tokens");
        if (count < 1) throw new SparseCircuitsException($"the number of next tokens must be >= 1 (got {count})");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var context = prompt.Skip(Math.Max(0, prompt.Count - model.Config.NCtx)).Select(t => (long)t).ToArray();
        Tensor logits = model.forward(tensor(context).view(1, -1)).select(1, -1).squeeze(0).to(ScalarType.Float64);
        var (values, indices) = nn.functional.softmax(logits, 0).topk(Math.Min(count, (int)logits.shape[0]));
        double[] p = values.data<double>().ToArray();
        long[] ids = indices.data<long>().ToArray();
        return ids.Select((id, i) => ((int)id, p[i])).ToArray();
    }

    static int Choose(Tensor logits, SamplingOptions options, SplitMix64 random)
    {
        if (options.Temperature == 0) return (int)logits.argmax().item<long>();
        Tensor scaled = logits / options.Temperature;
        if (options.TopK > 0 && options.TopK < scaled.shape[0])
        {
            Tensor kth = scaled.topk(options.TopK).values.min();
            using Scalar minusInfinity = double.NegativeInfinity;
            scaled = scaled.masked_fill(scaled < kth, minusInfinity);
        }
        double[] probabilities = nn.functional.softmax(scaled, 0).data<double>().ToArray();
        // Our own draw keeps sampling reproducible from --seed without touching torch's generator.
        double u = random.NextDouble(), cumulative = 0;
        for (int id = 0; id < probabilities.Length; id++)
        {
            cumulative += probabilities[id];
            if (u < cumulative) return id;
        }
        return Array.FindLastIndex(probabilities, p => p > 0);
    }
}

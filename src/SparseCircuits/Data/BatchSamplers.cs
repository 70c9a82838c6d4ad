using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Training batches: B windows of T+1 tokens at uniformly random offsets of a shard (inputs are
/// the first T, targets the last T). The sampler's whole state is one ulong, saved in checkpoints
/// so a resumed run draws exactly the batches an uninterrupted one would.
/// With a <see cref="RepeatFraction"/> &gt; 0, that share of the windows is a span of real text
/// followed by its own copy (period drawn in [T/8, T/2]): the induction curriculum of
/// docs/training.md, which rewards copying from an earlier occurrence. At 0 no extra random
/// numbers are drawn, so plain runs see exactly the batches they always did.
/// </summary>
public sealed class RandomWindowSampler
{
    readonly TokenShard _shard;
    readonly SplitMix64 _random;

    public int BatchSize { get; }
    public int ContextLength { get; }
    public double RepeatFraction { get; }

    public RandomWindowSampler(TokenShard shard, int batchSize, int contextLength, ulong seed, double repeatFraction = 0)
    {
        if (!(repeatFraction >= 0 && repeatFraction <= 1)) throw new SparseCircuitsException($"repeat fraction must be in [0, 1] (got {repeatFraction})");
        if (batchSize < 1) throw new SparseCircuitsException($"batch size must be >= 1 (got {batchSize})");
        if (contextLength < 1) throw new SparseCircuitsException($"context length must be >= 1 (got {contextLength})");
        if (shard.Length < contextLength + 1)
            throw new SparseCircuitsException($"token shard {shard.Path} has {shard.Length} tokens, fewer than one window of {contextLength + 1}");
        _shard = shard;
        BatchSize = batchSize;
        ContextLength = contextLength;
        RepeatFraction = repeatFraction;
        _random = new SplitMix64(seed);
    }

    /// <summary>Restorable generator state.</summary>
    public ulong State { get => _random.State; set => _random.State = value; }

    /// <summary>Fills <paramref name="windows"/> (length B*(T+1), row-major) with the next batch.</summary>
    public void Next(Span<long> windows)
    {
        int width = ContextLength + 1;
        if (windows.Length != BatchSize * width) throw new ArgumentException($"expected {BatchSize * width} slots", nameof(windows));
        long starts = _shard.Length - width + 1;
        for (int b = 0; b < BatchSize; b++)
        {
            var source = _shard.Slice((long)_random.NextBelow((ulong)starts), width);
            var row = windows.Slice(b * width, width);
            int period = RepeatFraction > 0 && _random.NextDouble() < RepeatFraction ? RepeatPeriod(width) : width;
            for (int t = 0; t < width; t++) row[t] = source[t % period];
        }
    }

    /// <summary>A copy period in [width/8, width/2] (at least 1), so copies start at varied distances.</summary>
    int RepeatPeriod(int width)
    {
        int low = Math.Max(1, width / 8), high = Math.Max(low, width / 2);
        return low + (int)_random.NextBelow((ulong)(high - low + 1));
    }

    public long[] Next()
    {
        var windows = new long[BatchSize * (ContextLength + 1)];
        Next(windows);
        return windows;
    }
}

/// <summary>
/// Evaluation batches: consecutive, non-overlapping windows of T+1 tokens from the start of the
/// shard (each window predicts T tokens), so every evaluation sees the same tokens.
/// </summary>
public static class SequentialWindows
{
    /// <summary>Batches of up to <paramref name="batchSize"/> windows covering at most <paramref name="maxTokens"/> predicted tokens.</summary>
    public static IEnumerable<long[]> Batches(TokenShard shard, int batchSize, int contextLength, long maxTokens = long.MaxValue)
    {
        if (batchSize < 1 || contextLength < 1) throw new SparseCircuitsException("batch size and context length must be >= 1");
        int width = contextLength + 1;
        long windowCount = Math.Min((shard.Length - 1) / contextLength, Math.Max(1, maxTokens / contextLength));
        if (shard.Length < width) yield break;
        for (long first = 0; first < windowCount; first += batchSize)
        {
            int n = (int)Math.Min(batchSize, windowCount - first);
            var batch = new long[n * width];
            for (int b = 0; b < n; b++)
            {
                var source = shard.Slice((first + b) * contextLength, width);
                for (int t = 0; t < width; t++) batch[b * width + t] = source[t];
            }
            yield return batch;
        }
    }
}

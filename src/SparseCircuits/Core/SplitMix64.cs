namespace SparseCircuits.Core;

/// <summary>
/// A tiny seeded generator (Steele, Lea and Flood's SplitMix64) for the batch sampler. Its whole
/// state is one <see cref="State"/> value, so a checkpoint can store it and a resumed run draws
/// exactly the batches the uninterrupted run would have.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    const ulong Golden = 0x9E3779B97F4A7C15;

    /// <summary>The complete generator state; assigning a saved value resumes the sequence.</summary>
    public ulong State { get; set; } = seed;

    public ulong NextUInt64()
    {
        ulong z = State += Golden;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>) without modulo bias (Lemire's multiply-and-reject).</summary>
    public ulong NextBelow(ulong bound)
    {
        if (bound == 0) throw new ArgumentOutOfRangeException(nameof(bound), "bound must be > 0");
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold) high = Math.BigMul(NextUInt64(), bound, out low);
        }
        return high;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}

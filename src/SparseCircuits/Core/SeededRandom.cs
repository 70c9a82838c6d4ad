namespace SparseCircuits.Core;

/// <summary>
/// SplitMix64: a tiny, fast generator whose whole state is one ulong, so samplers can save it
/// in a checkpoint and resume bit-exactly. Not for cryptography.
/// </summary>
public sealed class SeededRandom
{
    public ulong State { get; set; }

    public SeededRandom(ulong seed) => State = seed;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, bound), without modulo bias (Lemire's method).</summary>
    public long NextInt64(long bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        ulong b = (ulong)bound;
        ulong threshold = (0UL - b) % b;
        while (true)
        {
            ulong r = NextUInt64();
            ulong high = Math.BigMul(r, b, out ulong low);
            if (low >= threshold) return (long)high;
        }
    }

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}

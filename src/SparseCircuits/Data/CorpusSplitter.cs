using System.Security.Cryptography;
using System.Text;

namespace SparseCircuits.Data;

/// <summary>
/// Assigns a file to train/val/test by a hash of its relative path alone, so adding or removing
/// other files never moves a file between splits (no leakage between runs on growing corpora).
/// </summary>
public static class CorpusSplitter
{
    public static CorpusSplit Assign(string relativePath, double trainFraction, double valFraction)
    {
        double u = UnitInterval(relativePath.Replace('\\', '/'));
        if (u < trainFraction) return CorpusSplit.Train;
        return u < trainFraction + valFraction ? CorpusSplit.Val : CorpusSplit.Test;
    }

    /// <summary>A uniform number in [0, 1) from the first 8 bytes of SHA-256 of the path.</summary>
    static double UnitInterval(string path)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(path), digest);
        ulong x = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest);
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}

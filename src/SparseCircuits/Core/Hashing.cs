using System.Security.Cryptography;

namespace SparseCircuits.Core;

/// <summary>SHA-256 hex digests used in manifests to tie outputs to their exact inputs.</summary>
public static class Hashing
{
    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

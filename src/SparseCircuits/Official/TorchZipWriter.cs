using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Official;

/// <summary>
/// Writes a state_dict in <c>torch.save</c>'s format (docs/official-models.md, "The .pt format"),
/// loadable with <c>torch.load(path, weights_only=True)</c>: a zip whose folder (the file's name
/// without extension, as PyTorch names it) holds <c>data.pkl</c> (<see cref="StateDictPickler"/>),
/// <c>byteorder</c>, one 64-byte aligned uncompressed entry <c>data/N</c> per tensor, and
/// <c>version</c> ("3"). Written atomically: a reader never sees a partial file.
/// </summary>
public static class TorchZipWriter
{
    const long ChunkBytes = 1 << 26;

    public static void WriteStateDict(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors) => WriteStateDict(path, tensors, uint.MaxValue);

    /// <param name="zip64Threshold">offsets from which zip64 fields are used (lowered by tests)</param>
    internal static void WriteStateDict(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, long zip64Threshold)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("writing .pt files assumes a little-endian machine");
        TorchRuntime.EnsureInitialized();
        var entries = tensors.Select((t, i) => new StateDictPickler.Entry(t.Name, TorchStorageType.Of(t.Tensor.dtype), $"{i}", t.Tensor.shape)).ToList();
        if (entries.Select(e => e.Name).Distinct().Count() != entries.Count) throw new ArgumentException("tensor names must be unique", nameof(tensors));
        byte[] pickle = StateDictPickler.Write(entries);
        string archive = ArchiveName(path);
        AtomicFile.Write(path, stream =>
        {
            var zip = new StoredZipWriter(stream) { Zip64Threshold = zip64Threshold };
            zip.Add($"{archive}/data.pkl", pickle);
            zip.Add($"{archive}/byteorder", "little"u8);
            for (int i = 0; i < tensors.Count; i++)
            {
                Tensor t = tensors[i].Tensor;
                zip.Add($"{archive}/data/{entries[i].Key}", t.numel() * t.element_size(), s => WriteData(s, t));
            }
            zip.Add($"{archive}/version", "3\n"u8);
            zip.Finish();
        });
    }

    /// <summary>PyTorch names the archive's folder after the file; "archive" when the name is unusual.</summary>
    static string ArchiveName(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        return stem.Length > 0 && stem.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? stem : "archive";
    }

    static void WriteData(Stream stream, Tensor tensor)
    {
        if (tensor.numel() == 0) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor flat = tensor.detach().cpu().contiguous().reshape(-1);
        long elementsPerChunk = Math.Max(1, ChunkBytes / flat.element_size());
        for (long start = 0; start < flat.numel(); start += elementsPerChunk)
        {
            using Tensor chunk = flat.narrow(0, start, Math.Min(elementsPerChunk, flat.numel() - start));
            stream.Write(chunk.bytes);
        }
    }
}

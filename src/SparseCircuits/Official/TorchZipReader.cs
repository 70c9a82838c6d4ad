using System.IO.Compression;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Official;

/// <summary>
/// Reads a state_dict saved by <c>torch.save</c> (docs/official-models.md, "The .pt format"): a
/// zip archive (zip64 when large) whose one top-level folder holds <c>data.pkl</c>, read by the
/// <see cref="RestrictedUnpickler"/>, and one uncompressed entry <c>data/KEY</c> of raw
/// little-endian bytes per storage. Tensors come back contiguous, on the CPU, in file order, with
/// the dtype of their storage. Every problem is a one-line <see cref="SparseCircuitsException"/>.
/// </summary>
public static class TorchZipReader
{
    /// <summary>A state_dict's pickle is a few KB per tensor; this only bounds what a damaged file can make us allocate.</summary>
    const long MaxPickleBytes = 1L << 28;
    const int ChunkBytes = 1 << 26;

    public static OrderedDictionary<string, Tensor> ReadStateDict(string path)
    {
        TorchRuntime.EnsureInitialized();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("reading .pt files assumes a little-endian machine");
        if (!File.Exists(path)) throw new SparseCircuitsException($"file not found: {path}");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using ZipArchive zip = Open(stream, path);
        try
        {
            return Read(zip, path);
        }
        catch (InvalidDataException e)
        {
            throw new SparseCircuitsException($"{path} is damaged: {e.Message}");
        }
    }

    static ZipArchive Open(FileStream stream, string path)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            var head = new byte[2];
            stream.Seek(0, SeekOrigin.Begin);
            bool legacy = stream.Read(head) == 2 && head[0] == 0x80 && head[1] <= 5; // a bare pickle: torch.save before 1.6
            throw new SparseCircuitsException(legacy
                ? $"{path} is in PyTorch's legacy (pre-1.6) format; load it in Python and save it again with torch.save"
                : $"{path} is not a PyTorch checkpoint (a zip archive written by torch.save), or it is truncated: {e.Message}");
        }
    }

    static OrderedDictionary<string, Tensor> Read(ZipArchive zip, string path)
    {
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pickles.Count != 1)
            throw new SparseCircuitsException($"{path} is a zip archive but not a PyTorch checkpoint: expected one FOLDER/data.pkl, found {pickles.Count}");
        ZipArchiveEntry pickle = pickles[0];
        string prefix = pickle.FullName[..^"data.pkl".Length];
        if (zip.GetEntry(prefix + "byteorder") is { } byteOrder && ReadAll(byteOrder, path) is var order
            && System.Text.Encoding.ASCII.GetString(order) != "little")
            throw new SparseCircuitsException($"{path} was saved on a big-endian machine; only little-endian checkpoints are supported");
        if (pickle.Length > MaxPickleBytes) throw new SparseCircuitsException($"{path}: {pickle.FullName} is {pickle.Length} bytes, too large for a state_dict");

        OrderedDictionary<string, TorchTensorRef> refs = RestrictedUnpickler.ReadStateDict(ReadAll(pickle, path), $"{path} ({pickle.FullName})");
        var uses = refs.Values.GroupBy(r => r.Storage.Key).ToDictionary(g => g.Key, g => g.Count());
        var storages = new Dictionary<string, (TorchStorageRef Ref, Tensor Data)>();
        var result = new OrderedDictionary<string, Tensor>();
        try
        {
            foreach (var (name, tensor) in refs)
            {
                if (!storages.TryGetValue(tensor.Storage.Key, out var storage))
                    storages[tensor.Storage.Key] = storage = (tensor.Storage, ReadStorage(zip, prefix, tensor.Storage, name, path));
                if (storage.Ref != tensor.Storage)
                    throw new SparseCircuitsException($"{path}: storage '{tensor.Storage.Key}' is described two ways (tensor '{name}' and another)");
                result.Add(name, View(storage.Data, tensor, name, path, exclusive: uses[tensor.Storage.Key] == 1));
            }
        }
        catch
        {
            foreach (Tensor t in result.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var (_, data) in storages.Values) data.Dispose();
        }
        return result;
    }

    static Tensor ReadStorage(ZipArchive zip, string prefix, TorchStorageRef storage, string tensorName, string path)
    {
        string entryName = $"{prefix}data/{storage.Key}";
        ZipArchiveEntry entry = zip.GetEntry(entryName)
            ?? throw new SparseCircuitsException($"{path}: tensor '{tensorName}' uses storage '{storage.Key}', but the archive has no {entryName} (incomplete file?)");
        if (storage.Elements < 0) throw new SparseCircuitsException($"{path}: storage '{storage.Key}' has a negative size");
        long bytes = storage.Elements * storage.Type.ElementSize;
        if (entry.Length != bytes)
            throw new SparseCircuitsException($"{path}: {entryName} holds {entry.Length} bytes, but its {storage.Elements} elements of {storage.Type.Name} need {bytes}");
        Tensor data = empty(storage.Elements, dtype: storage.Type.DType);
        try
        {
            using Stream source = entry.Open();
            long elementsPerChunk = Math.Max(1, ChunkBytes / storage.Type.ElementSize);
            for (long start = 0; start < storage.Elements; start += elementsPerChunk)
            {
                using Tensor chunk = data.narrow(0, start, Math.Min(elementsPerChunk, storage.Elements - start));
                try { source.ReadExactly(chunk.bytes); }
                catch (EndOfStreamException) { throw new SparseCircuitsException($"{path}: {entryName} ends early (truncated)"); }
            }
            return data;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tensor's own copy of its strided view, after checking the view stays inside the
    /// storage; a tensor that is its whole storage, alone, takes the storage's memory instead.
    /// </summary>
    static Tensor View(Tensor storage, TorchTensorRef tensor, string name, string path, bool exclusive)
    {
        long[] shape = tensor.Shape, stride = tensor.Stride;
        if (shape.Length != stride.Length || shape.Any(s => s < 0) || stride.Any(s => s < 0) || tensor.Offset < 0)
            throw new SparseCircuitsException($"{path}: tensor '{name}' has an invalid shape [{string.Join(", ", shape)}] / stride [{string.Join(", ", stride)}]");
        long numel = shape.Aggregate(1L, (a, b) => a * b);
        long last = tensor.Offset + shape.Zip(stride, (size, step) => size == 0 ? 0 : (size - 1) * step).Sum();
        if (numel > 0 && last >= tensor.Storage.Elements)
            throw new SparseCircuitsException($"{path}: tensor '{name}' reaches element {last} of storage '{tensor.Storage.Key}', which has {tensor.Storage.Elements}");
        if (exclusive && tensor.Offset == 0 && numel == tensor.Storage.Elements && IsContiguous(shape, stride))
            return storage.view(shape);
        using Tensor strided = storage.as_strided(shape, stride, tensor.Offset);
        using Tensor contiguous = strided.contiguous();
        return contiguous.clone();
    }

    static bool IsContiguous(long[] shape, long[] stride)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    static byte[] ReadAll(ZipArchiveEntry entry, string path)
    {
        var bytes = new byte[entry.Length];
        using Stream source = entry.Open();
        try { source.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new SparseCircuitsException($"{path}: {entry.FullName} ends early (truncated)"); }
        return bytes;
    }
}

using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>What <see cref="SafeTensors.Read"/> returns: tensors in header order, and the <c>__metadata__</c> map.</summary>
public sealed record SafeTensorsContent(OrderedDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Reads and writes the safetensors format, so checkpoints open in Python with
/// <c>safetensors.torch.load_file</c>. Layout: u64 little-endian header length N, N bytes of JSON
/// (<c>{"__metadata__": {...}, name: {"dtype", "shape", "data_offsets": [begin, end]}}</c>) padded
/// with spaces to a multiple of 8, then the raw little-endian tensor bytes.
/// </summary>
public static class SafeTensors
{
    /// <summary>Copies go through spans, which are int-sized; chunking keeps any tensor size working.</summary>
    const long ChunkBytes = 1 << 26;

    static readonly JsonWriterOptions HeaderJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(kv => (kv.Key, kv.Value)).ToList(), metadata);

    /// <summary>
    /// Writes <paramref name="tensors"/> atomically. The header lists them in the given order; the
    /// data section orders them by element size (largest first), as the reference writer does, so
    /// every tensor starts at an offset aligned to its element size.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Name, Tensor T)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing assumes a little-endian machine");
        TorchRuntime.EnsureInitialized();
        var names = new HashSet<string>();
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("tensor name must not be empty");
            if (name == SafeTensorsHeader.MetadataKey) throw new ArgumentException($"tensor name {name} is reserved for metadata");
            if (!names.Add(name)) throw new ArgumentException($"tensor name '{name}' appears twice");
            SafeTensorsDType.NameOf(tensor.dtype);
        }

        var layout = new (long Begin, long End)[tensors.Count];
        long offset = 0;
        foreach (int i in Enumerable.Range(0, tensors.Count).OrderByDescending(i => tensors[i].T.element_size()))
        {
            long bytes = tensors[i].T.numel() * tensors[i].T.element_size();
            layout[i] = (offset, offset + bytes);
            offset += bytes;
        }

        byte[] header = BuildHeader(tensors, layout, metadata);
        var dataOrder = Enumerable.Range(0, tensors.Count).OrderBy(i => layout[i].Begin).ToArray();
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (int i in dataOrder) WriteData(stream, tensors[i].T);
        });
    }

    static byte[] BuildHeader(IReadOnlyList<(string Name, Tensor T)> tensors, (long Begin, long End)[] layout, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, HeaderJson))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            for (int i = 0; i < tensors.Count; i++)
            {
                json.WriteStartObject(tensors[i].Name);
                json.WriteString("dtype", SafeTensorsDType.NameOf(tensors[i].T.dtype));
                json.WriteStartArray("shape");
                foreach (long d in tensors[i].T.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(layout[i].Begin);
                json.WriteNumberValue(layout[i].End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Padding to 8 bytes keeps the data section aligned for readers that map it into memory.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    static void WriteData(Stream stream, Tensor tensor)
    {
        if (tensor.numel() == 0) return;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Tensor source = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.detach().cpu().contiguous();
        Tensor flat = source.reshape(-1);
        long elementsPerChunk = Math.Max(1, ChunkBytes / flat.element_size());
        for (long start = 0; start < flat.numel(); start += elementsPerChunk)
        {
            using Tensor chunk = flat.narrow(0, start, Math.Min(elementsPerChunk, flat.numel() - start));
            stream.Write(chunk.bytes);
        }
    }

    /// <summary>Reads every tensor (on the CPU, in header order) and the metadata; corrupt files raise a one-line <see cref="SparseCircuitsException"/>.</summary>
    public static SafeTensorsContent Read(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors reading assumes a little-endian machine");
        TorchRuntime.EnsureInitialized();
        if (!File.Exists(path)) throw new SparseCircuitsException($"safetensors file not found: {path}");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        SafeTensorsHeader header = SafeTensorsHeader.Read(stream, path);
        var result = new OrderedDictionary<string, Tensor>();
        try
        {
            foreach (SafeTensorsEntry entry in header.Entries)
            {
                SafeTensorsDType.TryGetScalarType(entry.DType, out ScalarType type);
                Tensor tensor = torch.empty(entry.Shape.ToArray(), dtype: type);
                result.Add(entry.Name, tensor);
                stream.Seek(header.DataStart + entry.Begin, SeekOrigin.Begin);
                ReadData(stream, tensor, path);
            }
        }
        catch
        {
            foreach (Tensor t in result.Values) t.Dispose();
            throw;
        }
        return new SafeTensorsContent(result, header.Metadata);
    }

    static void ReadData(Stream stream, Tensor tensor, string path)
    {
        if (tensor.numel() == 0) return;
        using Tensor flat = tensor.view(-1);
        long elementsPerChunk = Math.Max(1, ChunkBytes / flat.element_size());
        for (long start = 0; start < flat.numel(); start += elementsPerChunk)
        {
            using Tensor chunk = flat.narrow(0, start, Math.Min(elementsPerChunk, flat.numel() - start));
            try { stream.ReadExactly(chunk.bytes); }
            catch (EndOfStreamException) { throw SafeTensorsHeader.Corrupt(path, "file ended inside the data section (truncated)"); }
        }
    }
}

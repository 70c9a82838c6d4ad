using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>Where one tensor lives in a safetensors file: offsets are relative to the start of the data section.</summary>
public sealed record SafeTensorsEntry(string Name, string DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// The parsed and validated header of a safetensors file. Validation follows the format's rules
/// (https://github.com/huggingface/safetensors): a little-endian u64 header length N, N bytes of
/// UTF-8 JSON starting with '{' (trailing spaces allowed), then a data section that the tensors'
/// <c>data_offsets</c> cover exactly, without holes or overlaps.
/// </summary>
public sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart)
{
    /// <summary>Same bound as the reference implementation: a larger header is corruption, not a model.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    public static SafeTensorsHeader Read(string path)
    {
        if (!File.Exists(path)) throw new SparseCircuitsException($"safetensors file not found: {path}");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(stream, path);
    }

    internal static SafeTensorsHeader Read(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8) throw Corrupt(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes) throw Corrupt(path, $"header length {headerLength} is implausible (limit {MaxHeaderBytes})");
        if ((long)headerLength > fileLength - 8)
            throw Corrupt(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes after the length prefix (truncated?)");
        if (headerLength < 2) throw Corrupt(path, $"header length {headerLength} is too small for a JSON object");

        byte[] headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        if (headerBytes[0] != (byte)'{') throw Corrupt(path, "header does not start with '{'");
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        JsonDocument doc;
        try
        {
            string text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes);
            doc = JsonDocument.Parse(text);
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw Corrupt(path, $"header is not valid UTF-8 JSON: {FirstLine(e.Message)}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Corrupt(path, "header is not a JSON object");
            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>();
            foreach (JsonProperty property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Corrupt(path, $"header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, path);
                else entries.Add(ReadEntry(property, dataLength, path));
            }
            CheckCoverage(entries, dataLength, path);
            return new SafeTensorsHeader(entries, metadata, dataStart);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Corrupt(path, $"{MetadataKey} is not a JSON object");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Corrupt(path, $"{MetadataKey} value for '{item.Name}' is not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static SafeTensorsEntry ReadEntry(JsonProperty property, long dataLength, string path)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Corrupt(path, $"tensor '{name}' is not described by a JSON object");

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Corrupt(path, $"tensor '{name}' has no string dtype");
        string dtype = dtypeElement.GetString()!;
        if (!SafeTensorsDType.TryGetScalarType(dtype, out ScalarType _))
            throw Corrupt(path, $"tensor '{name}' has unknown dtype '{dtype}' (supported: {string.Join(", ", SafeTensorsDType.Names)})");

        long[] shape = ReadIntegers(value, "shape", name, path);
        if (shape.Any(d => d < 0)) throw Corrupt(path, $"tensor '{name}' has a negative dimension in shape [{string.Join(",", shape)}]");
        long[] offsets = ReadIntegers(value, "data_offsets", name, path);
        if (offsets.Length != 2) throw Corrupt(path, $"tensor '{name}' data_offsets must be [begin, end], got {offsets.Length} numbers");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength)
            throw Corrupt(path, $"tensor '{name}' data_offsets [{begin},{end}] are out of range (data section is {dataLength} bytes; truncated?)");

        long expected = SafeTensorsDType.ElementSize(dtype);
        foreach (long d in shape)
        {
            if (d != 0 && expected > long.MaxValue / d) throw Corrupt(path, $"tensor '{name}' shape [{string.Join(",", shape)}] is too large");
            expected *= d;
        }
        if (end - begin != expected)
            throw Corrupt(path, $"tensor '{name}' has {end - begin} bytes but dtype {dtype} with shape [{string.Join(",", shape)}] needs {expected}");
        return new SafeTensorsEntry(name, dtype, shape, begin, end);
    }

    static long[] ReadIntegers(JsonElement value, string field, string tensor, string path)
    {
        if (!value.TryGetProperty(field, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            throw Corrupt(path, $"tensor '{tensor}' has no {field} array");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
                throw Corrupt(path, $"tensor '{tensor}' {field} holds a non-integer");
        }
        return result;
    }

    /// <summary>The format forbids holes and overlaps, so a file whose tensors do not tile the data section exactly is corrupt.</summary>
    static void CheckCoverage(List<SafeTensorsEntry> entries, long dataLength, string path)
    {
        long position = 0;
        SafeTensorsEntry? previous = null;
        foreach (SafeTensorsEntry entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < position)
                throw Corrupt(path, $"tensors '{previous!.Name}' and '{entry.Name}' overlap in the data section");
            if (entry.Begin > position)
                throw Corrupt(path, $"data section has a hole at bytes [{position},{entry.Begin})");
            position = entry.End;
            previous = entry;
        }
        if (position != dataLength)
            throw Corrupt(path, $"data section is {dataLength} bytes but the tensors cover {position}");
    }

    static string FirstLine(string message) => message.Split('\n')[0].Trim();

    internal static SparseCircuitsException Corrupt(string path, string problem) =>
        new($"{path}: not a valid safetensors file: {problem}");
}

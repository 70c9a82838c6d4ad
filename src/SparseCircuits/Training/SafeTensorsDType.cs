using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>The dtype names of the safetensors format and the TorchSharp scalar types they map to.</summary>
public static class SafeTensorsDType
{
    static readonly (string Name, ScalarType Type, int Size)[] Table =
    [
        ("F64", ScalarType.Float64, 8),
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    ];

    public static IEnumerable<string> Names => Table.Select(t => t.Name);

    public static bool TryGetScalarType(string name, out ScalarType type)
    {
        foreach (var entry in Table)
        {
            if (entry.Name == name) { type = entry.Type; return true; }
        }
        type = default;
        return false;
    }

    public static string NameOf(ScalarType type)
    {
        foreach (var entry in Table)
        {
            if (entry.Type == type) return entry.Name;
        }
        throw new ArgumentException($"dtype {type} has no safetensors equivalent supported here (supported: {string.Join(", ", Table.Select(t => t.Type))})");
    }

    public static int ElementSize(string name)
    {
        foreach (var entry in Table)
        {
            if (entry.Name == name) return entry.Size;
        }
        throw new ArgumentException($"unknown safetensors dtype '{name}'");
    }
}

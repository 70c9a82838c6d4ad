using static TorchSharp.torch;

namespace SparseCircuits.Official;

/// <summary>
/// PyTorch's storage classes as a <c>.pt</c> pickle names them (<c>torch.FloatStorage</c>, ...):
/// the element type of the raw bytes under <c>data/N</c> (docs/official-models.md, "The .pt format").
/// </summary>
public sealed record TorchStorageType(string Name, ScalarType DType, int ElementSize)
{
    public static IReadOnlyList<TorchStorageType> All { get; } =
    [
        new("FloatStorage", ScalarType.Float32, 4),
        new("DoubleStorage", ScalarType.Float64, 8),
        new("HalfStorage", ScalarType.Float16, 2),
        new("BFloat16Storage", ScalarType.BFloat16, 2),
        new("LongStorage", ScalarType.Int64, 8),
        new("IntStorage", ScalarType.Int32, 4),
        new("ShortStorage", ScalarType.Int16, 2),
        new("CharStorage", ScalarType.Int8, 1),
        new("ByteStorage", ScalarType.Byte, 1),
        new("BoolStorage", ScalarType.Bool, 1),
        // Untyped storages are plain bytes.
        new("UntypedStorage", ScalarType.Byte, 1),
    ];

    /// <summary>The class for a global <c>torch.NAME</c>, or null when NAME is not a storage class.</summary>
    public static TorchStorageType? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>The typed storage class that holds <paramref name="dtype"/> (what torch.save names for a tensor of it).</summary>
    public static TorchStorageType Of(ScalarType dtype) =>
        All.FirstOrDefault(t => t.DType == dtype && t.Name != "UntypedStorage")
        ?? throw new ArgumentException($"no PyTorch storage class for dtype {dtype}");
}

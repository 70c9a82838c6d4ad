using System.IO.MemoryMappedFiles;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// A read-only, memory-mapped shard of uint16 token ids (little-endian, no header; the shard
/// manifest describes it). Mapping lets many samplers share the OS page cache without loading
/// hundreds of MB into the managed heap.
/// </summary>
public sealed unsafe class TokenShard : IDisposable
{
    readonly MemoryMappedFile? _file;
    readonly MemoryMappedViewAccessor? _view;
    readonly ushort* _tokens;

    public string Path { get; }
    public long Length { get; }

    public TokenShard(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new SparseCircuitsException($"token shard not found: {path}");
        long bytes = new FileInfo(path).Length;
        if (bytes % 2 != 0) throw new SparseCircuitsException($"token shard {path} has an odd byte count ({bytes}); it is truncated or not a shard");
        Length = bytes / 2;
        if (Length == 0) return; // mapping an empty file is an error on Linux
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _tokens = (ushort*)(pointer + _view.PointerOffset);
    }

    public ushort this[long index]
    {
        get
        {
            if ((ulong)index >= (ulong)Length) throw new ArgumentOutOfRangeException(nameof(index));
            return _tokens[index];
        }
    }

    /// <summary>The ids in [start, start + count) as a span over the mapping (valid until Dispose).</summary>
    public ReadOnlySpan<ushort> Slice(long start, int count)
    {
        if (start < 0 || count < 0 || start + count > Length) throw new ArgumentOutOfRangeException(nameof(start));
        return new ReadOnlySpan<ushort>(_tokens + start, count);
    }

    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _file?.Dispose();
    }
}

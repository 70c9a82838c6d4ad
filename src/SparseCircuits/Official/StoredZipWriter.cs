using System.Buffers.Binary;
using System.Text;

namespace SparseCircuits.Official;

/// <summary>
/// Writes a zip archive the way PyTorch's writer lays out a checkpoint: entries stored
/// uncompressed, each entry's data starting at a multiple of 64 bytes (padding goes into an extra
/// field of the local header, id "FB", as PyTorch's does), and a zip64 end-of-directory record
/// always present; offsets past 4 GB use zip64 fields. Entries are written in order, so the
/// stream must be seekable (each CRC is patched in once its data has passed).
/// </summary>
internal sealed class StoredZipWriter(Stream stream)
{
    const int Alignment = 64;
    const ushort PaddingFieldId = 0x4246; // "FB"
    const ushort Zip64FieldId = 0x0001;
    const ushort DosDate = (1 << 5) | 1; // 1980-01-01, so identical input gives identical bytes

    /// <summary>Offsets and counts at or above this go into zip64 fields (tests lower it to reach that path cheaply).</summary>
    internal long Zip64Threshold { get; init; } = uint.MaxValue;

    readonly long _start = stream.Position;
    readonly List<(byte[] Name, long Offset, long Length, uint Crc)> _entries = [];

    public void Add(string name, ReadOnlySpan<byte> data)
    {
        byte[] copy = data.ToArray();
        Add(name, copy.Length, s => s.Write(copy));
    }

    /// <summary>Adds an entry whose <paramref name="length"/> bytes <paramref name="writeData"/> writes.</summary>
    public void Add(string name, long length, Action<Stream> writeData)
    {
        if (length >= uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), $"entry {name} is 4 GB or more; not supported");
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        long offset = stream.Position - _start;
        int padding = (int)((Alignment - (offset + 30 + nameBytes.Length + 4) % Alignment) % Alignment);

        var header = new byte[30 + nameBytes.Length + 4 + padding];
        Span<byte> h = header;
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 20); // version needed: stored entries
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], DosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[18..], (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[22..], (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)(4 + padding));
        nameBytes.CopyTo(h[30..]);
        BinaryPrimitives.WriteUInt16LittleEndian(h[(30 + nameBytes.Length)..], PaddingFieldId);
        BinaryPrimitives.WriteUInt16LittleEndian(h[(32 + nameBytes.Length)..], (ushort)padding);
        h[(34 + nameBytes.Length)..].Fill((byte)'Z');
        stream.Write(header);

        var counting = new CrcStream(stream);
        writeData(counting);
        if (counting.Written != length) throw new InvalidOperationException($"entry {name}: {counting.Written} bytes written, {length} announced");
        long end = stream.Position;
        stream.Position = _start + offset + 14;
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, counting.Crc);
        stream.Write(crc);
        stream.Position = end;
        _entries.Add((nameBytes, offset, length, counting.Crc));
    }

    /// <summary>Writes the central directory and the end records.</summary>
    public void Finish()
    {
        long directoryStart = stream.Position - _start;
        foreach (var (name, offset, length, crc) in _entries)
        {
            bool zip64 = offset >= Zip64Threshold;
            var entry = new byte[46 + name.Length + (zip64 ? 12 : 0)];
            Span<byte> c = entry;
            BinaryPrimitives.WriteUInt32LittleEndian(c, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(c[4..], zip64 ? (ushort)45 : (ushort)20); // made by
            BinaryPrimitives.WriteUInt16LittleEndian(c[6..], zip64 ? (ushort)45 : (ushort)20); // needed
            BinaryPrimitives.WriteUInt16LittleEndian(c[14..], DosDate);
            BinaryPrimitives.WriteUInt32LittleEndian(c[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(c[20..], (uint)length);
            BinaryPrimitives.WriteUInt32LittleEndian(c[24..], (uint)length);
            BinaryPrimitives.WriteUInt16LittleEndian(c[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(c[30..], zip64 ? (ushort)12 : (ushort)0);
            BinaryPrimitives.WriteUInt32LittleEndian(c[42..], zip64 ? uint.MaxValue : (uint)offset);
            name.CopyTo(c[46..]);
            if (zip64)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(c[(46 + name.Length)..], Zip64FieldId);
                BinaryPrimitives.WriteUInt16LittleEndian(c[(48 + name.Length)..], 8);
                BinaryPrimitives.WriteInt64LittleEndian(c[(50 + name.Length)..], offset);
            }
            stream.Write(entry);
        }
        long directoryEnd = stream.Position - _start, directorySize = directoryEnd - directoryStart;

        var end = new byte[56 + 20 + 22];
        Span<byte> e = end;
        BinaryPrimitives.WriteUInt32LittleEndian(e, 0x06064b50); // zip64 end of central directory
        BinaryPrimitives.WriteInt64LittleEndian(e[4..], 44);
        BinaryPrimitives.WriteUInt16LittleEndian(e[12..], 45);
        BinaryPrimitives.WriteUInt16LittleEndian(e[14..], 45);
        BinaryPrimitives.WriteInt64LittleEndian(e[24..], _entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(e[32..], _entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(e[40..], directorySize);
        BinaryPrimitives.WriteInt64LittleEndian(e[48..], directoryStart);
        Span<byte> locator = e[56..];
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
        BinaryPrimitives.WriteInt64LittleEndian(locator[8..], directoryEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
        Span<byte> classic = e[76..];
        bool manyEntries = _entries.Count >= ushort.MaxValue;
        bool farDirectory = directoryStart >= Zip64Threshold || directorySize >= Zip64Threshold;
        BinaryPrimitives.WriteUInt32LittleEndian(classic, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(classic[8..], manyEntries ? ushort.MaxValue : (ushort)_entries.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(classic[10..], manyEntries ? ushort.MaxValue : (ushort)_entries.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(classic[12..], farDirectory ? uint.MaxValue : (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(classic[16..], farDirectory ? uint.MaxValue : (uint)directoryStart);
        stream.Write(end);
    }

    /// <summary>Passes writes through, counting bytes and their CRC-32.</summary>
    sealed class CrcStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public uint Crc { get; private set; }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Crc = Crc32.Append(Crc, buffer);
            Written += buffer.Length;
            inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

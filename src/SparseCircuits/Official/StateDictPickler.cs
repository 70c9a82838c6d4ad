using System.Buffers.Binary;
using System.Text;

namespace SparseCircuits.Official;

/// <summary>
/// Writes the <c>data.pkl</c> of a state_dict as <c>torch.save</c> does (pickle protocol 2): an
/// <c>collections.OrderedDict</c> of name -> <c>torch._utils._rebuild_tensor_v2(storage, 0,
/// shape, contiguous stride, False, OrderedDict())</c>, each storage a persistent id
/// <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c>. Only the globals the
/// <see cref="RestrictedUnpickler"/> and PyTorch's <c>weights_only</c> loader accept appear.
/// </summary>
internal static class StateDictPickler
{
    /// <summary>One tensor: its name, storage class, storage key (the entry <c>data/KEY</c>) and shape.</summary>
    public sealed record Entry(string Name, TorchStorageType Storage, string Key, long[] Shape);

    /// <summary>Python's pickler also groups SETITEMS by this many pairs.</summary>
    const int Batch = 1000;

    public static byte[] Write(IReadOnlyList<Entry> entries)
    {
        var w = new Writer();
        w.Op(0x80).Op(2); // PROTO 2
        int orderedDict = w.Global("collections", "OrderedDict");
        w.Op(')').Op('R'); // OrderedDict()
        int rebuild = -1;
        var storageClasses = new Dictionary<string, int>();
        for (int start = 0; start < entries.Count; start += Batch)
        {
            w.Op('('); // MARK
            foreach (Entry e in entries.Skip(start).Take(Batch))
            {
                w.Text(e.Name);
                rebuild = rebuild < 0 ? w.Global("torch._utils", "_rebuild_tensor_v2") : w.Get(rebuild);
                w.Op('(').Op('('); // the argument tuple, then the persistent id tuple
                w.Text("storage");
                storageClasses[e.Storage.Name] = storageClasses.TryGetValue(e.Storage.Name, out int slot) ? w.Get(slot) : w.Global("torch", e.Storage.Name);
                w.Text(e.Key).Text("cpu").Int(e.Shape.Aggregate(1L, (a, b) => a * b));
                w.Op('t').Op('Q'); // TUPLE, BINPERSID
                w.Int(0); // storage offset
                w.Tuple(e.Shape).Tuple(ContiguousStride(e.Shape));
                w.Op(0x89); // requires_grad False
                w.Get(orderedDict);
                w.Op(')').Op('R'); // backward hooks: OrderedDict()
                w.Op('t').Op('R'); // TUPLE, REDUCE
            }
            w.Op('u'); // SETITEMS
        }
        w.Op('.'); // STOP
        return w.ToArray();
    }

    static long[] ContiguousStride(long[] shape)
    {
        var stride = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            stride[i] = step;
            step *= shape[i];
        }
        return stride;
    }

    sealed class Writer
    {
        readonly MemoryStream _out = new();
        int _memo;

        public Writer Op(int code)
        {
            _out.WriteByte((byte)code);
            return this;
        }

        /// <summary>GLOBAL, memoized; returns its memo slot.</summary>
        public int Global(string module, string name)
        {
            Op('c');
            _out.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
            int slot = _memo++;
            Op('r'); // LONG_BINPUT
            Span<byte> index = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(index, (uint)slot);
            _out.Write(index);
            return slot;
        }

        /// <summary>LONG_BINGET of a memo slot; returns the slot.</summary>
        public int Get(int slot)
        {
            Op('j');
            Span<byte> index = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(index, (uint)slot);
            _out.Write(index);
            return slot;
        }

        public Writer Text(string value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            Op('X'); // BINUNICODE
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
            _out.Write(length);
            _out.Write(bytes);
            return this;
        }

        /// <summary>The shortest of BININT1, BININT2, BININT, LONG1 (8 bytes) that holds the value.</summary>
        public Writer Int(long value)
        {
            Span<byte> buffer = stackalloc byte[8];
            if (value is >= 0 and <= byte.MaxValue) Op('K').Op((int)value);
            else if (value is >= 0 and <= ushort.MaxValue)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)value);
                Op('M')._out.Write(buffer[..2]);
            }
            else if (value is >= int.MinValue and <= int.MaxValue)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer, (int)value);
                Op('J')._out.Write(buffer[..4]);
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
                Op(0x8a).Op(8)._out.Write(buffer);
            }
            return this;
        }

        public Writer Tuple(long[] values)
        {
            if (values.Length > 3) Op('(');
            foreach (long v in values) Int(v);
            return values.Length switch
            {
                0 => Op(')'),
                1 => Op(0x85),
                2 => Op(0x86),
                3 => Op(0x87),
                _ => Op('t'),
            };
        }

        public byte[] ToArray() => _out.ToArray();
    }
}

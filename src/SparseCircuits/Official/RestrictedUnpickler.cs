using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Official;

/// <summary>A storage named by a pickle's persistent id <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
public sealed record TorchStorageRef(string Key, TorchStorageType Type, string Location, long Elements);

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a strided view of a storage.</summary>
public sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Shape, long[] Stride);

/// <summary>
/// Reads the <c>data.pkl</c> of a PyTorch checkpoint holding a state_dict, and nothing else: an
/// interpreter for the few pickle opcodes such a file uses, which never calls anything. The only
/// globals it accepts are <c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>,
/// <c>torch._utils._rebuild_parameter</c> and the storage classes (<see cref="TorchStorageType"/>);
/// a pickle naming any other (<c>os.system</c>, <c>builtins.eval</c>, ...) or using another opcode is
/// refused with one line, before anything is built from it. This is what makes reading downloaded
/// weights safe; Python's own unpickler would run whatever the file names.
/// </summary>
public sealed class RestrictedUnpickler
{
    // The objects this interpreter can make besides strings, numbers, booleans and null.
    sealed record Global(string Module, string Name);
    sealed class Dict { public readonly List<KeyValuePair<object?, object?>> Items = []; }

    static readonly HashSet<string> Callables = ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter"];

    const int MaxMemo = 1 << 24;

    readonly byte[] _data;
    readonly string _source;
    readonly List<object?> _stack = [];
    readonly List<int> _marks = [];
    readonly Dictionary<long, object?> _memo = [];
    int _pos;

    RestrictedUnpickler(byte[] data, string source) => (_data, _source) = (data, source);

    /// <summary>
    /// The state_dict in <paramref name="pickle"/>: tensor descriptions by key, in file order.
    /// <paramref name="source"/> names the file in error messages.
    /// </summary>
    public static OrderedDictionary<string, TorchTensorRef> ReadStateDict(byte[] pickle, string source)
    {
        object? root = new RestrictedUnpickler(pickle, source).Run();
        if (root is not Dict dict) throw new SparseCircuitsException($"{source}: holds {Describe(root)}, not a state_dict (a dict of tensors)");
        var result = new OrderedDictionary<string, TorchTensorRef>();
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name) throw new SparseCircuitsException($"{source}: state_dict key {Describe(key)} is not a string");
            if (value is not TorchTensorRef tensor) throw new SparseCircuitsException($"{source}: state_dict entry '{name}' is {Describe(value)}, not a tensor");
            if (!result.TryAdd(name, tensor)) throw new SparseCircuitsException($"{source}: state_dict key '{name}' appears twice");
        }
        return result;
    }

    object? Run()
    {
        while (true)
        {
            int at = _pos;
            byte op = Byte();
            switch (op)
            {
                case 0x80: Byte(); break; // PROTO n: every protocol's opcodes below mean the same
                case 0x95: Bytes(8); break; // FRAME: a length hint only
                case (byte)'.': // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Bad(at, "ends with an unbalanced stack");
                    return _stack[0];
                case (byte)'(': _marks.Add(_stack.Count); break; // MARK
                case (byte)'c': Push(MakeGlobal(Line(), Line(), at)); break; // GLOBAL
                case 0x93: // STACK_GLOBAL
                {
                    object? name = Pop(), module = Pop();
                    if (module is not string m || name is not string n) throw Bad(at, "STACK_GLOBAL needs two strings");
                    Push(MakeGlobal(m, n, at));
                    break;
                }
                case (byte)'q': Memo(Byte(), at); break; // BINPUT
                case (byte)'r': Memo(UInt32(), at); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count, at); break; // MEMOIZE
                case (byte)'h': Push(Recall(Byte(), at)); break; // BINGET
                case (byte)'j': Push(Recall(UInt32(), at)); break; // LONG_BINGET
                case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case (byte)'t': Push(PopToMark(at).ToArray()); break; // TUPLE
                case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                case 0x86: { object? b = Pop(), a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { object? c = Pop(), b = Pop(), a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)'l': Push(PopToMark(at)); break; // LIST
                case (byte)'a': { object? item = Pop(); AsList(Peek(), at).Add(item); break; } // APPEND
                case (byte)'e': { var items = PopToMark(at); AsList(Peek(), at).AddRange(items); break; } // APPENDS
                case (byte)'}': Push(new Dict()); break; // EMPTY_DICT
                case (byte)'d': { var d = new Dict(); AddPairs(d, PopToMark(at), at); Push(d); break; } // DICT
                case (byte)'s': { object? value = Pop(), key = Pop(); AsDict(Peek(), at).Items.Add(new(key, value)); break; } // SETITEM
                case (byte)'u': { var items = PopToMark(at); AddPairs(AsDict(Peek(), at), items, at); break; } // SETITEMS
                case (byte)'N': Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'K': Push((long)Byte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break; // BININT
                case 0x8a: Push(Long(Byte(), at)); break; // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break; // BINFLOAT
                case (byte)'X': Push(Utf8(UInt32(), at)); break; // BINUNICODE
                case 0x8c: Push(Utf8(Byte(), at)); break; // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(Int64(), at)); break; // BINUNICODE8
                case (byte)'Q': Push(PersistentId(Pop(), at)); break; // BINPERSID
                case (byte)'R': { object? args = Pop(), callable = Pop(); Push(Reduce(callable, args, at)); break; } // REDUCE
                case (byte)'b': Build(Pop(), Peek(), at); break; // BUILD
                default: throw Bad(at, $"uses pickle opcode 0x{op:x2}, which a state_dict never needs; refusing to read it");
            }
        }
    }

    /// <summary>Only the allow-listed names become objects; anything else stops reading here.</summary>
    Global MakeGlobal(string module, string name, int at)
    {
        string full = $"{module}.{name}";
        if (Callables.Contains(full) || module == "torch" && TorchStorageType.Find(name) is not null) return new Global(module, name);
        throw new SparseCircuitsException(
            $"{_source}: refers to {full} (byte {at}), which a weights file never needs; refusing to load it " +
            "(allowed: collections.OrderedDict, torch._utils._rebuild_tensor_v2 and _rebuild_parameter, torch storage classes)");
    }

    object? Reduce(object? callable, object? args, int at)
    {
        if (callable is not Global g || args is not object?[] a) throw Bad(at, "REDUCE needs a function and an argument tuple");
        switch ($"{g.Module}.{g.Name}")
        {
            case "collections.OrderedDict":
                if (a.Length != 0) throw Bad(at, "OrderedDict is built with arguments");
                return new Dict();
            case "torch._utils._rebuild_tensor_v2":
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.Length is < 6 or > 7 || a[0] is not TorchStorageRef storage)
                    throw Bad(at, "_rebuild_tensor_v2 gets arguments other than (storage, offset, size, stride, requires_grad, hooks)");
                if (a[5] is Dict { Items.Count: > 0 }) throw Bad(at, "a tensor carries backward hooks");
                return new TorchTensorRef(storage, AsLong(a[1], at), Longs(a[2], at), Longs(a[3], at));
            case "torch._utils._rebuild_parameter":
                // (data, requires_grad, backward_hooks): a Parameter is its tensor here.
                if (a.Length != 3 || a[0] is not TorchTensorRef tensor) throw Bad(at, "_rebuild_parameter gets arguments other than (tensor, requires_grad, hooks)");
                return tensor;
            default:
                throw Bad(at, $"calls {g.Module}.{g.Name}, which builds nothing in a state_dict");
        }
    }

    /// <summary>A storage reference: <c>('storage', torch.FloatStorage, '0', 'cpu', 4096)</c>.</summary>
    object PersistentId(object? pid, int at)
    {
        if (pid is not object?[] { Length: 5 } t || t[0] is not "storage" || t[1] is not Global { Module: "torch" } type
            || TorchStorageType.Find(type.Name) is not { } storageType || t[2] is not string key || t[3] is not string location)
            throw Bad(at, "has a persistent id that is not a tensor storage");
        return new TorchStorageRef(key, storageType, location, AsLong(t[4], at));
    }

    /// <summary>BUILD on the state_dict sets its <c>_metadata</c> (module versions); nothing here needs it.</summary>
    void Build(object? state, object? target, int at)
    {
        if (target is not Dict || state is not (Dict or null)) throw Bad(at, "BUILD sets the state of something other than a dict");
    }

    void AddPairs(Dict dict, List<object?> items, int at)
    {
        if (items.Count % 2 != 0) throw Bad(at, "has a dict with an odd number of keys and values");
        for (int i = 0; i < items.Count; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
    }

    List<object?> PopToMark(int at)
    {
        if (_marks.Count == 0) throw Bad(at, "pops a mark that was never set");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    void Memo(long index, int at)
    {
        if (_memo.Count >= MaxMemo) throw Bad(at, "memoizes too many objects");
        _memo[index] = Peek();
    }

    object? Recall(long index, int at) => _memo.TryGetValue(index, out object? value) ? value : throw Bad(at, $"reads memo slot {index}, which was never written");

    void Push(object? value) => _stack.Add(value);

    object? Peek() => _stack.Count > (_marks.Count == 0 ? 0 : _marks[^1]) ? _stack[^1] : throw Bad(_pos - 1, "reads an empty stack");

    object? Pop()
    {
        object? value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    List<object?> AsList(object? value, int at) => value as List<object?> ?? throw Bad(at, "appends to something other than a list");

    Dict AsDict(object? value, int at) => value as Dict ?? throw Bad(at, "sets an item of something other than a dict");

    long AsLong(object? value, int at) => value is long l ? l : throw Bad(at, $"has {Describe(value)} where a whole number belongs");

    long[] Longs(object? value, int at) =>
        value is object?[] t ? t.Select(v => AsLong(v, at)).ToArray() : throw Bad(at, $"has {Describe(value)} where a tuple of sizes belongs");

    object Long(int length, int at)
    {
        var value = new BigInteger(Bytes(length), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : throw Bad(at, "has an integer beyond 64 bits");
    }

    string Utf8(long length, int at)
    {
        if (length < 0 || length > _data.Length - _pos) throw Bad(at, "ends inside a string (truncated)");
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Bytes((int)length)); }
        catch (DecoderFallbackException) { throw Bad(at, "has a string that is not UTF-8"); }
    }

    /// <summary>A GLOBAL operand: text up to a newline.</summary>
    string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Bad(_pos, "ends inside a global name (truncated)");
        string text = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return text;
    }

    byte Byte() => Bytes(1)[0];

    uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

    long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

    ReadOnlySpan<byte> Bytes(int count)
    {
        if (count > _data.Length - _pos) throw Bad(_pos, "ends early (truncated)");
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    SparseCircuitsException Bad(int at, string what) => new($"{_source}: the pickle {what} (byte {at})");

    static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{s}'",
        long or double => $"the number {value}",
        bool b => b ? "True" : "False",
        object?[] t => $"a tuple of {t.Length}",
        List<object?> => "a list",
        Dict => "a dict",
        Global g => $"{g.Module}.{g.Name}",
        TorchStorageRef => "a storage",
        TorchTensorRef => "a tensor",
        _ => value.GetType().Name,
    };
}

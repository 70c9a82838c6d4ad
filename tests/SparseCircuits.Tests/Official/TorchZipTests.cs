using System.IO.Compression;
using System.Text;
using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Official;
using SparseCircuits.Tests.Support;
using SparseCircuits.Tests.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Official;

/// <summary>PyTorch's zip checkpoint format: our reader on PyTorch's files and hand-made ones, our writer checked by our reader and by Python.</summary>
public sealed class TorchZipTests
{
    static string FixtureModel => Path.Combine(ReleaseFixtures.TinyModel, "final_model.pt");

    [Fact]
    public void Reads_every_tensor_of_a_file_pytorch_wrote()
    {
        using var _ = NewDisposeScope();
        var tensors = TorchZipReader.ReadStateDict(FixtureModel);

        Assert.Equal(28, tensors.Count);
        Assert.Equal(new long[] { 2048, 2048 }, tensors["bigram_table"].shape);
        Assert.Equal(new long[] { 192, 64 }, tensors["transformer.h.1.attn.c_attn.weight"].shape);
        Assert.Equal(new long[] { 4 }, tensors["transformer.h.0.attn.attn_imp.sink_logit"].shape);
        Assert.All(tensors.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        // Random weights with explicit zeros (about 12% of c_attn nonzero): real bytes, not zero-filled.
        double density = tensors["transformer.h.0.attn.c_attn.weight"].count_nonzero().item<long>() / (192.0 * 64);
        Assert.InRange(density, 0.05, 0.5);
    }

    [Fact]
    public void Written_tensors_read_back_bit_for_bit_in_order()
    {
        using var _ = NewDisposeScope();
        using var dir = new TempDir();
        var g = new TorchSharp.torch.Generator(3);
        var tensors = new List<(string, Tensor)>
        {
            ("w", randn([7, 5], generator: g)),
            ("scalar", tensor(2.5f)),
            ("empty", zeros(0, 3)),
            ("ids", arange(10, dtype: ScalarType.Int64)),
            ("half", randn([3, 4], generator: g).to(ScalarType.BFloat16)),
            ("strided", randn([6, 4], generator: g).t()), // not contiguous: written as its values
        };
        string path = dir["final_model.pt"];
        TorchZipWriter.WriteStateDict(path, tensors);

        var read = TorchZipReader.ReadStateDict(path);
        Assert.Equal(tensors.Select(t => t.Item1), read.Keys);
        foreach (var (name, t) in tensors) Assert.True(Bits.Identical(t.contiguous(), read[name]), name);
    }

    [Fact]
    public void Written_file_has_the_layout_pytorch_writes()
    {
        using var _ = NewDisposeScope();
        using var dir = new TempDir();
        string path = dir["final_model.pt"];
        TorchZipWriter.WriteStateDict(path, [("a", ones(3, 3)), ("b", zeros(5))]);

        byte[] file = File.ReadAllBytes(path);
        using var zip = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read);
        Assert.Equal(["final_model/data.pkl", "final_model/byteorder", "final_model/data/0", "final_model/data/1", "final_model/version"],
            zip.Entries.Select(e => e.FullName));
        Assert.Equal("little", Read(zip, "final_model/byteorder"));
        Assert.Equal("3\n", Read(zip, "final_model/version"));
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            Assert.Equal(entry.Length, entry.CompressedLength); // stored, not deflated
            Assert.Equal(Crc32.Append(0, ReadBytes(entry)), entry.Crc32);
            Assert.Equal(0, DataOffset(file, entry.FullName) % 64); // aligned like torch's storages
        }
        // The pickle names only what torch's weights_only loader allows.
        string pickle = Encoding.ASCII.GetString(ReadBytes(zip.GetEntry("final_model/data.pkl")!));
        Assert.Contains("collections\nOrderedDict\n", pickle);
        Assert.Contains("torch._utils\n_rebuild_tensor_v2\n", pickle);
        Assert.Contains("torch\nFloatStorage\n", pickle);
    }

    [Fact]
    public void Crc32_gives_the_standard_check_value() =>
        Assert.Equal(0xCBF43926u, Crc32.Append(0, "123456789"u8));

    [PythonFact]
    public void Python_reads_the_written_file_like_a_weights_only_torch_load()
    {
        using var _ = NewDisposeScope();
        using var dir = new TempDir();
        string path = dir["final_model.pt"];
        var tensors = new List<(string, Tensor)>
        {
            ("transformer.wte.weight", arange(12, dtype: ScalarType.Float32).reshape(3, 4) / 8),
            ("final_logits_bias", full(5, -1.5f)),
            ("big", arange(70_000, dtype: ScalarType.Float32)), // a storage larger than 64 KB
        };
        // A low zip64 threshold puts every offset past the first entry into zip64 fields.
        TorchZipWriter.WriteStateDict(path, tensors, zip64Threshold: 100);

        var seen = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Python.Run(ReadLikeTorch, path))!;
        Assert.Equal(tensors.Select(t => t.Item1).Order(), seen.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.shape, seen[name].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            Assert.Equal(t.to(ScalarType.Float64).sum().item<double>(), seen[name].GetProperty("sum").GetDouble(), 6);
            Assert.Equal(t.flatten()[-1].item<float>(), seen[name].GetProperty("last").GetDouble());
        }
        // And ours reads the zip64 form too.
        Assert.True(Bits.Identical(tensors[2].Item2, TorchZipReader.ReadStateDict(path)["big"]));
    }

    /// <summary>
    /// What <c>torch.load(weights_only=True)</c> does, with the standard library only: CRC-checked
    /// zip entries, an unpickler that resolves nothing but the allowed globals, storages from
    /// data/KEY by persistent id, tensors rebuilt from (storage, offset, size, stride).
    /// </summary>
    const string ReadLikeTorch = """
        import array, collections, json, pickle, sys, zipfile
        z = zipfile.ZipFile(sys.argv[1])
        assert z.testzip() is None
        [pkl] = [n for n in z.namelist() if n.endswith('/data.pkl')]
        root = pkl[:-len('data.pkl')]
        assert z.read(root + 'byteorder') == b'little' and z.read(root + 'version') in (b'3\n', b'3')
        def rebuild(storage, offset, size, stride, requires_grad, hooks):
            assert isinstance(hooks, collections.OrderedDict) and not requires_grad
            n = 1
            for s in size: n *= s
            values = [storage[offset + sum(i * st for i, st in zip(idx, stride))] for idx in indices(size)]
            return {'shape': list(size), 'sum': sum(values), 'last': values[-1] if values else None}
        def indices(size):
            if not size: yield (); return
            for i in range(size[0]):
                for rest in indices(size[1:]): yield (i,) + rest
        class FloatStorage: pass
        class Restricted(pickle.Unpickler):
            def find_class(self, module, name):
                allowed = {('collections', 'OrderedDict'): collections.OrderedDict,
                           ('torch._utils', '_rebuild_tensor_v2'): rebuild, ('torch', 'FloatStorage'): FloatStorage}
                return allowed[(module, name)]
            def persistent_load(self, pid):
                kind, cls, key, location, numel = pid
                assert kind == 'storage' and cls is FloatStorage and location == 'cpu'
                data = array.array('f'); data.frombytes(z.read(root + 'data/' + key))
                assert len(data) == numel
                return data
        import io
        sd = Restricted(io.BytesIO(z.read(pkl))).load()
        assert isinstance(sd, collections.OrderedDict)
        print(json.dumps(sd))
        """;

    [PythonFact]
    public void Reads_shared_strided_and_offset_views_of_one_storage()
    {
        using var _ = NewDisposeScope();
        using var dir = new TempDir();
        string path = dir["views.pt"];
        Python.Run(WriteViews, path);

        var read = TorchZipReader.ReadStateDict(path);
        Tensor storage = arange(12, dtype: ScalarType.Float32);
        Assert.True(Bits.Identical(storage.reshape(3, 4), read["whole"]));
        Assert.True(Bits.Identical(storage.reshape(3, 4).t().contiguous(), read["transposed"]));
        Assert.True(Bits.Identical(tensor(new float[] { 5, 8 }), read["offset"]));
        Assert.True(Bits.Identical(tensor(new long[] { 7, 9 }), read["long"]));
        Assert.True(Bits.Identical(tensor(new float[] { 1, 2 }), read["parameter"])); // a Parameter (keep_vars=True) reads as its tensor
        // Tensors sharing a storage do not share memory once read.
        read["whole"].add_(1);
        Assert.Equal(0f, read["transposed"][0, 0].item<float>());
    }

    /// <summary>A state_dict pickled the way torch.save does (same globals and persistent ids), from Python's own pickler.</summary>
    const string WriteViews = """
        import array, collections, pickle, sys, types, zipfile, io
        torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils')
        sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils
        def _rebuild_tensor_v2(*args): pass
        def _rebuild_parameter(*args): pass
        for f in (_rebuild_tensor_v2, _rebuild_parameter): f.__module__ = 'torch._utils'; setattr(utils, f.__name__, f)
        class FloatStorage: pass
        class LongStorage: pass
        for cls in (FloatStorage, LongStorage): cls.__module__ = 'torch'; cls.__qualname__ = cls.__name__; setattr(torch, cls.__name__, cls)
        class Storage:
            def __init__(self, key, cls, numel): self.key, self.cls, self.numel = key, cls, numel
        class T:
            def __init__(self, storage, offset, size, stride): self.args = (storage, offset, size, stride, False, collections.OrderedDict())
            def __reduce__(self): return (_rebuild_tensor_v2, self.args)
        class Param:
            def __init__(self, data): self.data = data
            def __reduce__(self): return (_rebuild_parameter, (self.data, True, collections.OrderedDict()))
        floats, longs = Storage('0', FloatStorage, 12), Storage('1', LongStorage, 3)
        sd = collections.OrderedDict()
        sd['whole'] = T(floats, 0, (3, 4), (4, 1))
        sd['transposed'] = T(floats, 0, (4, 3), (1, 4))
        sd['offset'] = T(floats, 5, (2,), (3,))
        sd['long'] = T(longs, 1, (2,), (1,))
        sd['parameter'] = Param(T(floats, 1, (2,), (1,)))
        class P(pickle.Pickler):
            def persistent_id(self, obj):
                return ('storage', obj.cls, obj.key, 'cpu', obj.numel) if isinstance(obj, Storage) else None
        buf = io.BytesIO(); P(buf, protocol=2).dump(sd)
        with zipfile.ZipFile(sys.argv[1], 'w') as z:
            z.writestr('views/data.pkl', buf.getvalue())
            z.writestr('views/data/0', array.array('f', range(12)).tobytes())
            z.writestr('views/data/1', array.array('q', [3, 7, 9]).tobytes())
            z.writestr('views/version', '3\n')
        """;

    /// <summary>Pickles that are not a state_dict of tensors, each refused by the reader with one line.</summary>
    public static TheoryData<string, string> RefusedPickles() => new()
    {
        // GLOBAL builtins.eval, then a call: the classic payload.
        { @"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.", "refers to builtins.eval" },
        // The same through protocol 4's STACK_GLOBAL.
        { @"\x80\x04\x8c\x02os\x8c\x06system\x93.", "refers to os.system" },
        // INST (protocol 0) builds an object by calling its class.
        { @"(ios\nsystem\n.", "opcode 0x69" },
        // BINBYTES: no state_dict has raw bytes in its pickle.
        { @"\x80\x02B\x01\x00\x00\x00x.", "opcode 0x42" },
        // An allowed function with arguments no state_dict has.
        { @"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nK\x01\x85R.", "_rebuild_tensor_v2 gets arguments" },
        { @"\x80\x02K\x05.", "holds the number 5, not a state_dict" },
        { @"\x80\x02}X\x01\x00\x00\x00aK\x01s.", "entry 'a' is the number 1, not a tensor" },
        { @"\x80\x02}X\x05\x00\x00\x00ab", "ends inside a string" },
        { @"\x80\x02}", "ends early" },
        { @"\x80\x02h\x07.", "memo slot 7" },
    };

    [Theory]
    [MemberData(nameof(RefusedPickles))]
    public void Pickles_outside_a_state_dict_are_refused_without_running_anything(string escaped, string message)
    {
        byte[] pickle = System.Text.RegularExpressions.Regex.Unescape(escaped).Select(c => (byte)c).ToArray();
        var e = Assert.Throws<SparseCircuitsException>(() => RestrictedUnpickler.ReadStateDict(pickle, "test.pkl"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("test.pkl: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    static string Read(ZipArchive zip, string name) => Encoding.ASCII.GetString(ReadBytes(zip.GetEntry(name)!));

    static byte[] ReadBytes(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Where an entry's data starts: after its local header's name and extra fields.</summary>
    static long DataOffset(byte[] file, string name)
    {
        byte[] header = "PK\u0003\u0004"u8.ToArray();
        for (int at = 0; at < file.Length - 30; at++)
        {
            if (!file.AsSpan(at, 4).SequenceEqual(header)) continue;
            int nameLength = BitConverter.ToUInt16(file, at + 26), extraLength = BitConverter.ToUInt16(file, at + 28);
            if (Encoding.UTF8.GetString(file, at + 30, nameLength) == name) return at + 30 + nameLength + extraLength;
        }
        throw new InvalidOperationException($"no local header for {name}");
    }
}

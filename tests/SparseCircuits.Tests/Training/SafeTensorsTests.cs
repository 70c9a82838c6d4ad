using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class SafeTensorsTests
{
    public SafeTensorsTests() => TorchRuntime.EnsureInitialized();

    static List<(string Name, Tensor T)> MixedTensors() =>
    [
        ("transformer.h.0.attn.c_attn.weight", torch.tensor(new float[] { 0.5f, -1.25f, 3f, 1e-3f, -0f, 7f, 0.1f, float.MaxValue }).reshape(2, 4)),
        ("bytes", torch.tensor(new byte[] { 0, 127, 255 })),
        ("scalar", torch.tensor(Math.PI, dtype: ScalarType.Float64)),
        ("idx", torch.tensor(new long[] { 1, -2, 1L << 40, long.MinValue })),
        ("i32", torch.tensor(new int[] { int.MinValue, 0, int.MaxValue })),
        ("half", torch.tensor(new float[] { 1.5f, -2f }).to(ScalarType.Float16)),
        ("bf", torch.tensor(new float[] { 1f, -3f, 0.15625f }).to(ScalarType.BFloat16)),
        ("flags", torch.tensor(new bool[] { true, false, true })),
        ("empty", torch.zeros(0, 4)),
    ];

    [Fact]
    public void Round_trip_keeps_names_order_dtypes_shapes_values_and_metadata()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var tensors = MixedTensors();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        SafeTensors.Write(dir.File("t.safetensors"), tensors, metadata);

        SafeTensorsContent content = SafeTensors.Read(dir.File("t.safetensors"));

        Assert.Equal(tensors.Select(t => t.Name), content.Tensors.Keys);
        foreach (var (name, expected) in tensors)
        {
            Tensor actual = content.Tensors[name];
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(Bits.Identical(expected, actual), name);
        }
        Assert.Equal(metadata, content.Metadata);
    }

    [Fact]
    public void Byte_layout_matches_the_format_by_hand()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        SafeTensors.Write(dir.File("a.safetensors"), [("a", torch.tensor(new float[] { 1f, -2f }))], new Dictionary<string, string> { ["k"] = "v" });

        byte[] bytes = File.ReadAllBytes(dir.File("a.safetensors"));
        const string json = """{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        int padded = (json.Length + 7) / 8 * 8;
        Assert.Equal((ulong)padded, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(json + new string(' ', padded - json.Length), Encoding.UTF8.GetString(bytes, 8, padded));
        // 1.0f = 0x3F800000 and -2.0f = 0xC0000000, little-endian.
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0 }, bytes[(8 + padded)..]);
    }

    [Fact]
    public void Data_section_aligns_every_tensor_to_its_element_size()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        SafeTensors.Write(dir.File("t.safetensors"), MixedTensors());

        SafeTensorsHeader header = SafeTensorsHeader.Read(dir.File("t.safetensors"));
        Assert.Equal(0, header.DataStart % 8);
        foreach (SafeTensorsEntry e in header.Entries) Assert.Equal(0, e.Begin % SafeTensorsDType.ElementSize(e.DType));
    }

    [Fact]
    public void Writes_non_contiguous_and_gradient_tracking_tensors_by_value()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        Tensor transposed = torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3).t();
        var parameter = new TorchSharp.Modules.Parameter(torch.ones(3, 2));
        SafeTensors.Write(dir.File("t.safetensors"), new Dictionary<string, Tensor> { ["t"] = transposed, ["p"] = parameter });

        var read = SafeTensors.Read(dir.File("t.safetensors")).Tensors;
        Assert.True(Bits.Identical(read["t"], transposed));
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, read["t"].data<float>().ToArray());
        Assert.True(Bits.Identical(read["p"], torch.ones(3, 2)));
        Assert.False(read["p"].requires_grad);
    }

    [Fact]
    public void Rejects_bad_input_before_touching_the_target()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        File.WriteAllText(dir.File("t.safetensors"), "keep me");
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(dir.File("t.safetensors"), [("a", torch.zeros(1)), ("a", torch.zeros(1))]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(dir.File("t.safetensors"), [("__metadata__", torch.zeros(1))]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(dir.File("t.safetensors"), [("c", torch.zeros(1, dtype: ScalarType.ComplexFloat32))]));
        Assert.Equal("keep me", File.ReadAllText(dir.File("t.safetensors")));
    }

    // ---- corrupt files: each is a one-line SparseCircuitsException naming the file and the problem

    static string WriteValid(TempDirectory dir)
    {
        using var scope = torch.NewDisposeScope();
        string path = dir.File("valid.safetensors");
        SafeTensors.Write(path, [("a", torch.ones(4)), ("b", torch.zeros(2, 2))]);
        return path;
    }

    static byte[] FileWithHeader(string json, int dataBytes)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    static void AssertCorrupt(string path, string problem)
    {
        var e = Assert.Throws<SparseCircuitsException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<SparseCircuitsException>(() => SafeTensorsHeader.Read(path));
    }

    [Fact]
    public void Truncated_file_is_reported()
    {
        using var dir = new TempDirectory();
        string path = WriteValid(dir);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        AssertCorrupt(path, "out of range");

        File.WriteAllBytes(path, bytes[..20]);
        AssertCorrupt(path, "exceeds");

        File.WriteAllBytes(path, bytes[..3]);
        AssertCorrupt(path, "shorter than the 8-byte header length");
    }

    [Fact]
    public void Wrong_header_length_is_reported()
    {
        using var dir = new TempDirectory();
        string path = WriteValid(dir);
        byte[] bytes = File.ReadAllBytes(path);

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        File.WriteAllBytes(path, bytes);
        AssertCorrupt(path, "implausible");

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)bytes.Length);
        File.WriteAllBytes(path, bytes);
        AssertCorrupt(path, "exceeds");

        // One byte short: the JSON loses its closing brace.
        byte[] valid = File.ReadAllBytes(WriteValid(dir));
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(valid);
        string header = Encoding.UTF8.GetString(valid, 8, (int)length).TrimEnd();
        BinaryPrimitives.WriteUInt64LittleEndian(valid, (ulong)header.Length - 1);
        File.WriteAllBytes(path, valid);
        AssertCorrupt(path, "not valid UTF-8 JSON");
    }

    [Fact]
    public void Garbage_header_is_reported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");

        File.WriteAllBytes(path, FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", 4));
        AssertCorrupt(path, "not valid UTF-8 JSON");

        File.WriteAllBytes(path, FileWithHeader("[1, 2, 3]", 0));
        AssertCorrupt(path, "does not start with '{'");

        File.WriteAllBytes(path, FileWithHeader("{\"a\": 1}", 0));
        AssertCorrupt(path, "tensor 'a' is not described by a JSON object");

        byte[] invalidUtf8 = FileWithHeader("{\"a\":  1}", 0);
        invalidUtf8[8 + 2] = 0xFF;
        File.WriteAllBytes(path, invalidUtf8);
        AssertCorrupt(path, "not valid UTF-8 JSON");

        File.WriteAllBytes(path, FileWithHeader("{\"__metadata__\": {\"n\": 3}}", 0));
        AssertCorrupt(path, "is not a string");
    }

    [Fact]
    public void Inconsistent_entries_are_reported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}}""", 4));
        AssertCorrupt(path, "unknown dtype 'F33'");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}""", 4));
        AssertCorrupt(path, "has 4 bytes but dtype F32 with shape [2] needs 8");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 4));
        AssertCorrupt(path, "out of range");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8));
        AssertCorrupt(path, "hole");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}""", 4));
        AssertCorrupt(path, "overlap");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 12));
        AssertCorrupt(path, "data section is 12 bytes but the tensors cover 4");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}""", 4));
        AssertCorrupt(path, "negative dimension");

        File.WriteAllBytes(path, FileWithHeader("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 4));
        AssertCorrupt(path, "names 'a' twice");

        Assert.Contains("not found", Assert.Throws<SparseCircuitsException>(() => SafeTensors.Read(dir.File("missing.safetensors"))).Message);
    }

    // ---- cross-language: an independent stdlib-only Python implementation of the format

    const string PythonReader = """
        import json, struct, sys
        SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
        FMT = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B", "BOOL": "?"}
        data = open(sys.argv[1], "rb").read()
        (n,) = struct.unpack("<Q", data[:8])
        assert n % 8 == 0, "header not padded to 8 bytes"
        raw_header = data[8:8 + n]
        assert raw_header[:1] == b"{"
        header = json.loads(raw_header.decode("utf-8"))
        metadata = header.pop("__metadata__", {})
        assert all(isinstance(v, str) for v in metadata.values())
        buf = data[8 + n:]
        pos = 0
        for begin, end in sorted(tuple(v["data_offsets"]) for v in header.values()):
            assert begin == pos, "hole or overlap"
            pos = end
        assert pos == len(buf), "data section not fully covered"
        tensors = {}
        for name, info in header.items():
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            count = 1
            for d in shape:
                count *= d
            assert end - begin == count * SIZE[dtype]
            chunk = buf[begin:end]
            if dtype == "BF16":
                values = [struct.unpack("<f", b"\x00\x00" + chunk[i:i + 2])[0] for i in range(0, len(chunk), 2)]
            else:
                values = list(struct.unpack("<%d%s" % (count, FMT[dtype]), chunk))
            tensors[name] = {"dtype": dtype, "shape": shape, "values": values}
        print(json.dumps({"order": list(header.keys()), "metadata": metadata, "tensors": tensors}))
        """;

    [PythonFact]
    public void Python_reads_what_we_write()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var tensors = MixedTensors();
        SafeTensors.Write(dir.File("t.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        using JsonDocument doc = JsonDocument.Parse(Python.Run(PythonReader, dir.File("t.safetensors")));
        JsonElement root = doc.RootElement;
        Assert.Equal(tensors.Select(t => t.Name), root.GetProperty("order").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("pt", root.GetProperty("metadata").GetProperty("format").GetString());
        foreach (var (name, expected) in tensors)
        {
            JsonElement t = root.GetProperty("tensors").GetProperty(name);
            Assert.Equal(SafeTensorsDType.NameOf(expected.dtype), t.GetProperty("dtype").GetString());
            Assert.Equal(expected.shape, t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            JsonElement[] values = t.GetProperty("values").EnumerateArray().ToArray();
            if (expected.numel() == 0)
                Assert.Empty(values);
            else if (expected.dtype == ScalarType.Bool)
                Assert.Equal(expected.data<bool>().ToArray(), values.Select(v => v.GetBoolean()));
            else if (expected.dtype == ScalarType.Int64)
                Assert.Equal(expected.data<long>().ToArray(), values.Select(v => v.GetInt64()));
            else
                Assert.Equal(expected.to(ScalarType.Float64).data<double>().ToArray(), values.Select(v => v.GetDouble()));
        }
    }

    const string PythonWriter = """
        import json, struct, sys
        # Data laid out in an order unlike the header's, and JSON with the spaces Python puts in.
        chunks = [
            ("bytes", "U8", [3], struct.pack("<3B", 0, 127, 255)),
            ("w", "F32", [2, 3], struct.pack("<6f", 0.5, -1.25, 3.0, 1e-3, -0.0, 7.0)),
            ("idx", "I64", [4], struct.pack("<4q", 1, -2, 2**40, -(2**62))),
            ("scalar", "F64", [], struct.pack("<d", 3.141592653589793)),
            ("half", "F16", [2], struct.pack("<2e", 1.5, -2.0)),
            ("bf", "BF16", [2], struct.pack("<2H", 0x3F80, 0xC040)),
            ("empty", "F32", [0, 5], b""),
        ]
        header, data = {}, b""
        for name, dtype, shape, raw in chunks:
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
        ordered = {"__metadata__": {"format": "pt", "writer": "python"}}
        for name in ["w", "idx", "scalar", "bytes", "half", "bf", "empty"]:
            ordered[name] = header[name]
        text = json.dumps(ordered).encode("utf-8")
        text += b" " * ((8 - len(text) % 8) % 8)
        with open(sys.argv[1], "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)
        """;

    [PythonFact]
    public void We_read_what_Python_writes()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        Python.Run(PythonWriter, dir.File("py.safetensors"));

        SafeTensorsContent content = SafeTensors.Read(dir.File("py.safetensors"));

        Assert.Equal(["w", "idx", "scalar", "bytes", "half", "bf", "empty"], content.Tensors.Keys);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["writer"] = "python" }, content.Metadata);
        var t = content.Tensors;
        Assert.Equal(new long[] { 2, 3 }, t["w"].shape);
        Assert.Equal(new float[] { 0.5f, -1.25f, 3f, 1e-3f, -0f, 7f }, t["w"].data<float>().ToArray());
        Assert.Equal(new long[] { 1, -2, 1L << 40, -(1L << 62) }, t["idx"].data<long>().ToArray());
        Assert.Empty(t["scalar"].shape);
        Assert.Equal(3.141592653589793, t["scalar"].item<double>());
        Assert.Equal(new byte[] { 0, 127, 255 }, t["bytes"].data<byte>().ToArray());
        Assert.Equal(ScalarType.Float16, t["half"].dtype);
        Assert.Equal(new float[] { 1.5f, -2f }, t["half"].to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, t["bf"].dtype);
        Assert.Equal(new float[] { 1f, -3f }, t["bf"].to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(new long[] { 0, 5 }, t["empty"].shape);
    }
}

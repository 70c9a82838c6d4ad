using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class CheckpointStoreTests
{
    const string Config = """{"d_model": 16, "n_layer": 2}""";

    public CheckpointStoreTests() => TorchRuntime.EnsureInitialized();

    static OrderedDictionary<string, Tensor> Model(float fill) => new()
    {
        ["transformer.wte.weight"] = torch.full(10, 4, fill),
        ["transformer.h.0.attn.c_attn.weight"] = torch.arange(48, dtype: ScalarType.Float32).reshape(12, 4) * fill,
        ["transformer.h.0.attn.c_attn.bias"] = torch.zeros(12),
    };

    static OrderedDictionary<string, Tensor> Optimizer() => new()
    {
        ["step"] = torch.tensor(5L),
        ["transformer.wte.weight.exp_avg"] = torch.full(10, 4, 0.25f),
        ["transformer.wte.weight.exp_avg_sq"] = torch.full(10, 4, 0.5f),
    };

    static TrainerState State(long step) => new(step, TokensSeen: step * 256, SamplerRngState: ulong.MaxValue - 5, BestValLoss: 2.5,
        Extra: new Dictionary<string, string> { ["note"] = "hello" });

    internal static string Save(CheckpointStore store, long step, double? valLoss, float fill = 1f, bool? atFinalDensity = null)
    {
        using var scope = torch.NewDisposeScope();
        return store.Save(step, Model(fill), Optimizer(), State(step), Config, valLoss, atFinalDensity: atFinalDensity);
    }

    [Fact]
    public void Save_then_load_latest_round_trips_everything()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var store = new CheckpointStore(dir.Path);
        var generator = new Generator(3);
        var state = State(123) with { TorchRngState = TorchRngState.Capture(generator) };
        var model = Model(0.5f);
        var optimizer = Optimizer();

        string saved = store.Save(123, model, optimizer, state, Config, valLoss: 2.75);

        Assert.Equal(Path.Combine(dir.Path, "step_000123"), saved);
        using Checkpoint loaded = store.LoadLatest()!;
        Assert.Equal(123, loaded.Step);
        Assert.Equal(saved, loaded.Directory);
        Assert.Equal(2.75, loaded.ValLoss);
        Assert.Equal(Config, loaded.ConfigJson);
        Assert.Equal(model.Keys, loaded.Model.Keys);
        foreach (var (name, t) in model) Assert.True(Bits.Identical(t, loaded.Model[name]), name);
        Assert.Equal(optimizer.Keys, loaded.Optimizer.Keys);
        foreach (var (name, t) in optimizer) Assert.True(Bits.Identical(t, loaded.Optimizer[name]), name);
        Assert.Equal(123, loaded.State.Step);
        Assert.Equal(123 * 256, loaded.State.TokensSeen);
        Assert.Equal(ulong.MaxValue - 5, loaded.State.SamplerRngState);
        Assert.Equal(2.5, loaded.State.BestValLoss);
        Assert.Equal(state.TorchRngState, loaded.State.TorchRngState);
        Assert.Equal("hello", loaded.State.Extra!["note"]);
        Assert.Equal(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(Config)), loaded.State.ConfigSha256);
    }

    [Fact]
    public void Checkpoint_directory_holds_the_documented_files()
    {
        using var dir = new TempDirectory();
        string saved = Save(new CheckpointStore(dir.Path), 7, valLoss: null);

        Assert.Equal(
            ["COMPLETE", "config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"],
            Directory.EnumerateFileSystemEntries(saved).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["step_000007"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));
        Assert.Equal("step_1234567", CheckpointStore.DirectoryName(1234567));

        using JsonDocument state = JsonDocument.Parse(File.ReadAllText(Path.Combine(saved, "trainer_state.json")));
        Assert.Equal((ulong.MaxValue - 5).ToString(), state.RootElement.GetProperty("sampler_rng_state").GetString());
        Assert.Equal(1, state.RootElement.GetProperty("format").GetInt32());
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(saved, "COMPLETE")));
        Assert.Equal(7, manifest.RootElement.GetProperty("step").GetInt64());
        Assert.Equal(JsonValueKind.Null, manifest.RootElement.GetProperty("val_loss").ValueKind);
        Assert.Equal(new FileInfo(Path.Combine(saved, "model.safetensors")).Length,
            manifest.RootElement.GetProperty("files").GetProperty("model.safetensors").GetProperty("bytes").GetInt64());
        Assert.Equal("pt", SafeTensorsHeader.Read(Path.Combine(saved, "model.safetensors")).Metadata["format"]);
    }

    [Fact]
    public void Pruning_keeps_the_last_N_and_the_best()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path, keepLast: 2);
        Save(store, 100, 3.0);
        Save(store, 200, 2.0);
        Save(store, 300, 2.5);
        Save(store, 400, null);
        Save(store, 500, 2.2);

        Assert.Equal([200L, 400, 500], store.List().Select(c => c.Step));
        Assert.Equal(200, store.Best()!.Step);
        Assert.Equal(500, store.Latest()!.Step);
        BestCheckpointPointer pointer = Json.ReadFile<BestCheckpointPointer>(Path.Combine(dir.Path, "best.json"));
        Assert.Equal(("step_000200", 2.0), (pointer.Directory, pointer.ValLoss));

        Save(store, 600, 1.5);
        Assert.Equal([500L, 600], store.List().Select(c => c.Step));
        Assert.Equal("step_000600", Json.ReadFile<BestCheckpointPointer>(Path.Combine(dir.Path, "best.json")).Directory);
        using Checkpoint best = store.LoadBest()!;
        Assert.Equal(600, best.Step);
    }

    [Fact]
    public void A_checkpoint_saved_before_the_weights_reached_their_density_is_never_the_best()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path, keepLast: 5);
        Save(store, 100, 1.0, atFinalDensity: false); // mid-anneal: denser, so a lower loss
        Save(store, 200, 2.0, atFinalDensity: true);
        Save(store, 300, 1.8, atFinalDensity: true);
        Assert.Equal(300, store.Best()!.Step);
        Assert.Equal("step_000300", Json.ReadFile<BestCheckpointPointer>(Path.Combine(dir.Path, "best.json")).Directory);
        Assert.Equal([false, true, true], store.List().Select(c => c.AtFinalDensity));

        // Checkpoints written before the flag existed (no field in COMPLETE) still compete.
        Save(store, 400, 1.5);
        Assert.DoesNotContain("at_final_density", File.ReadAllText(Path.Combine(dir.Path, "step_000400", CheckpointStore.CompleteFile)));
        Assert.Equal(400, store.Best()!.Step);

        // Nothing at the final density yet: no best (callers fall back to the latest).
        using var early = new TempDirectory();
        var annealing = new CheckpointStore(early.Path);
        Save(annealing, 100, 1.0, atFinalDensity: false);
        Assert.Null(annealing.Best());
        Assert.Equal(100, CheckpointChoice.Best.Find(annealing)!.Step);
    }

    [Fact]
    public void Checkpoints_at_multiples_of_keep_every_survive_pruning()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path, keepLast: 2, keepEvery: 200);
        for (long step = 100; step <= 700; step += 100) Save(store, step, valLoss: null);
        Assert.Equal([200L, 400, 600, 700], store.List().Select(c => c.Step));
        Assert.Contains("keep_every", Assert.Throws<SparseCircuitsException>(() => new CheckpointStore(dir.Path, keepEvery: -1)).Message);
    }

    [Fact]
    public void Interrupted_saves_are_invisible_and_cleaned_up()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        string good = Save(store, 100, null);
        // A save killed just before its commit rename: complete contents, but under the hidden work name
        // (of a process id that no longer runs).
        string killed = Path.Combine(dir.Path, ".step_000200.partial-999999999-0123abcd");
        CopyDirectory(good, killed);
        // A directory with the right name but no COMPLETE marker, e.g. copied by hand and interrupted.
        string unmarked = Path.Combine(dir.Path, "step_000300");
        CopyDirectory(good, unmarked);
        File.Delete(Path.Combine(unmarked, "COMPLETE"));

        using (Checkpoint latest = store.LoadLatest()!) Assert.Equal(100, latest.Step);
        Assert.Equal([100L], store.List().Select(c => c.Step));
        Assert.Contains("not a complete checkpoint", Assert.Throws<SparseCircuitsException>(() => CheckpointStore.Load(unmarked)).Message);

        Save(store, 400, null);
        Assert.False(Directory.Exists(killed));
        Assert.True(Directory.Exists(unmarked), "directories the store did not create are left alone");
        Assert.Equal(400, store.Latest()!.Step);
    }

    [Fact]
    public void Failed_save_leaves_no_trace()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var store = new CheckpointStore(dir.Path);
        Save(store, 100, null);
        var unsupported = new Dictionary<string, Tensor> { ["x"] = torch.zeros(2, dtype: ScalarType.ComplexFloat32) };

        Assert.Throws<ArgumentException>(() => store.Save(200, unsupported, Optimizer(), State(200), Config, null));

        Assert.Equal(["step_000100"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));
        Assert.Equal(100, store.Latest()!.Step);
    }

    [Fact]
    public void Saving_a_step_again_replaces_it()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        Save(store, 100, 2.0, fill: 1f);
        Save(store, 100, 1.0, fill: 2f);

        using Checkpoint loaded = store.LoadLatest()!;
        Assert.Equal(2f, loaded.Model["transformer.wte.weight"][0, 0].item<float>());
        Assert.Equal(1.0, loaded.ValLoss);
        Assert.Equal(["best.json", "step_000100"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Corrupt_checkpoints_are_one_line_errors()
    {
        using var dir = new TempDirectory();
        string saved = Save(new CheckpointStore(dir.Path), 100, null);
        string copy = Path.Combine(dir.Path, "copy");

        string Error(Action<string> damage)
        {
            if (Directory.Exists(copy)) Directory.Delete(copy, true);
            CopyDirectory(saved, copy);
            damage(copy);
            var e = Assert.Throws<SparseCircuitsException>(() => CheckpointStore.Load(copy));
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains(copy, e.Message);
            return e.Message;
        }

        Assert.Contains("truncated", Error(d => Truncate(Path.Combine(d, "model.safetensors"), 10)));
        Assert.Contains("SHA-256", Error(d => FlipLastByte(Path.Combine(d, "optimizer.safetensors"))));
        Assert.Contains("not valid JSON", Error(d => File.WriteAllText(Path.Combine(d, "COMPLETE"), "{garbage")));
        Assert.Contains("missing", Error(d => File.Delete(Path.Combine(d, "config.json"))));
        Assert.Contains("not a complete checkpoint", Error(d => File.Delete(Path.Combine(d, "COMPLETE"))));
        Assert.Contains("not found", Assert.Throws<SparseCircuitsException>(() => CheckpointStore.Load(Path.Combine(dir.Path, "nope"))).Message);

        // A damaged latest checkpoint is reported, not silently skipped.
        Truncate(Path.Combine(saved, "model.safetensors"), 1);
        Assert.Contains("truncated", Assert.Throws<SparseCircuitsException>(() => new CheckpointStore(dir.Path).LoadLatest()).Message);
    }

    [Fact]
    public void Empty_or_missing_root_has_no_checkpoints()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(Path.Combine(dir.Path, "not-yet"));
        Assert.Empty(store.List());
        Assert.Null(store.LoadLatest());
        Assert.Null(store.LoadBest());
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var store = new CheckpointStore(dir.Path);
        Assert.Throws<ArgumentException>(() => store.Save(5, Model(1), Optimizer(), State(4), Config, null));
        Assert.Throws<ArgumentException>(() => store.Save(5, Model(1), Optimizer(), State(5), "{not json", null));
        Assert.Contains("keep_last", Assert.Throws<SparseCircuitsException>(() => new CheckpointStore(dir.Path, keepLast: 0)).Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Training_resumed_from_the_store_matches_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(11);
        Tensor init = torch.randn(6, 5, generator: generator);
        Tensor[] grads = Enumerable.Range(0, 4).Select(_ => torch.randn(6, 5, generator: generator)).ToArray();
        var store = new CheckpointStore(dir.Path);

        var continuous = new Parameter(init.clone());
        using var a = new AdamWithDecoupledDecay([new("w", continuous, true)], new AdamConfig());
        var sampler = new SplitMix64(99);
        for (int s = 0; s < 4; s++)
        {
            AdamWithDecoupledDecayTests.SetGrad(continuous, grads[s]);
            a.Step(1e-2);
            a.ApplyWeightDecay(1e-2);
            sampler.NextUInt64();
            if (s == 1)
                store.Save(2, new Dictionary<string, Tensor> { ["w"] = continuous }, a.ExportState(),
                    new TrainerState(2, TokensSeen: 2, SamplerRngState: sampler.State), Config, null);
        }

        using Checkpoint checkpoint = store.LoadLatest()!;
        var resumed = new Parameter(checkpoint.Model["w"].clone());
        using var b = new AdamWithDecoupledDecay([new("w", resumed, true)], new AdamConfig());
        b.ImportState(checkpoint.Optimizer);
        var resumedSampler = new SplitMix64(0) { State = checkpoint.State.SamplerRngState };
        for (int s = 2; s < 4; s++)
        {
            AdamWithDecoupledDecayTests.SetGrad(resumed, grads[s]);
            b.Step(1e-2);
            b.ApplyWeightDecay(1e-2);
            resumedSampler.NextUInt64();
        }

        Assert.True(Bits.Identical(continuous, resumed));
        Assert.Equal(sampler.State, resumedSampler.State);
    }

    const string PythonCheckpointReader = """
        import hashlib, json, os, struct, sys
        d = sys.argv[1]
        manifest = json.load(open(os.path.join(d, "COMPLETE")))
        for name, digest in manifest["files"].items():
            data = open(os.path.join(d, name), "rb").read()
            assert len(data) == digest["bytes"] and hashlib.sha256(data).hexdigest() == digest["sha256"], name
        state = json.load(open(os.path.join(d, "trainer_state.json")))
        model = open(os.path.join(d, "model.safetensors"), "rb").read()
        (n,) = struct.unpack("<Q", model[:8])
        header = json.loads(model[8:8 + n])
        print(json.dumps({"step": manifest["step"], "sampler": int(state["sampler_rng_state"]),
                          "config": json.load(open(os.path.join(d, "config.json"))),
                          "names": [k for k in header if k != "__metadata__"]}))
        """;

    [PythonFact]
    public void Python_can_verify_and_read_a_checkpoint()
    {
        using var dir = new TempDirectory();
        string saved = Save(new CheckpointStore(dir.Path), 42, 1.0);

        using JsonDocument doc = JsonDocument.Parse(Python.Run(PythonCheckpointReader, saved));
        Assert.Equal(42, doc.RootElement.GetProperty("step").GetInt64());
        Assert.Equal(ulong.MaxValue - 5, doc.RootElement.GetProperty("sampler").GetUInt64());
        Assert.Equal(16, doc.RootElement.GetProperty("config").GetProperty("d_model").GetInt32());
        Assert.Equal(Model(1).Keys, doc.RootElement.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
    }

    static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    static void Truncate(string path, int bytes)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(stream.Length - bytes);
    }

    static void FlipLastByte(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        data[^1] ^= 0xFF;
        File.WriteAllBytes(path, data);
    }
}

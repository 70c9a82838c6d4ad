using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Official;
using SparseCircuits.Tests.Support;
using SparseCircuits.Tests.Training;
using SparseCircuits.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Official;

/// <summary>`circuits import official` and `export official` through the library: the release's forward reproduced, round trips bit-exact, bad input refused.</summary>
public sealed class OfficialImportTests(ITestOutputHelper output)
{
    static OfficialImportResult Import(string source, string outDir, string? tokenizer = null) =>
        OfficialImport.Run(new OfficialImportRequest(source, outDir, tokenizer ?? ReleaseFixtures.Tokenizer, null, "test"), NullProgress.Instance);

    [Fact]
    public void Imported_tiny_model_gives_the_release_logits_at_every_position()
    {
        using var dir = new TempDir();
        Import(ReleaseFixtures.TinyModel, dir["run"]);
        using var trained = TrainedModel.Load(dir["run"]);
        using var scope = NewDisposeScope();
        var expected = SafeTensors.Read(Path.Combine(ReleaseFixtures.TinyModel, "expected.safetensors")).Tensors;

        using var _ = no_grad();
        Tensor logits = trained.Model.forward(expected["tokens"]);
        Assert.Equal(new long[] { 3, 48, 2048 }, logits.shape);
        double maxDiff = (logits - expected["logits"]).abs().max().item<float>();
        output.WriteLine($"max |logit - expected| over 3 x 48 positions: {maxDiff:E3}");
        Assert.True(maxDiff < 1e-4, $"max abs logit difference {maxDiff}");
        // The run carries the release's tokenizer: its end-of-text id is the release's.
        Assert.Equal(2047, trained.Tokenizer.EndOfTextId);
    }

    [Fact]
    public void The_run_records_its_sources_with_their_hashes()
    {
        using var dir = new TempDir();
        OfficialImportResult result = Import(ReleaseFixtures.TinyModel, dir["run"]);

        RunManifest manifest = Json.ReadFile<RunManifest>(Path.Combine(dir["run"], "manifest.json"));
        RunImport source = manifest.Import!;
        Assert.Equal(["final_model.pt", "beeg_config.json", "encoder.json", "vocab.bpe"], source.Files.Select(f => Path.GetFileName(f.Path)));
        string pt = Path.Combine(ReleaseFixtures.TinyModel, "final_model.pt");
        Assert.Equal(Hashing.Sha256File(pt), source.Files[0].Sha256);
        Assert.Equal(new FileInfo(pt).Length, source.Files[0].Bytes);
        Assert.Equal("tinypython_2k", source.TokenizerName);
        Assert.Contains("n_embd=64", source.IgnoredKeys);
        Assert.Equal("", manifest.DataDir);
        Assert.Equal(4_560_328, result.Parameters);
        Assert.InRange(result.Config.WeightDensity, 0.1, 0.15); // measured: the fixture keeps ~12% of matrix entries
        Assert.False(result.Config.Dense);
    }

    [Fact]
    public void Import_then_export_then_import_is_bit_exact()
    {
        using var dir = new TempDir();
        Import(ReleaseFixtures.TinyModel, dir["first"]);
        OfficialExportResult exported = OfficialExport.Run(dir["first"], dir["export"], CheckpointChoice.Best, NullProgress.Instance);
        Assert.Empty(exported.Notes);
        Import(dir["export"], dir["second"], tokenizer: dir["export/tokenizer"]);

        using var scope = NewDisposeScope();
        using var first = TrainedModel.Load(dir["first"]);
        using var second = TrainedModel.Load(dir["second"]);
        Assert.Equal(first.Config.Model, second.Config.Model);
        var a = first.Model.state_dict();
        var b = second.Model.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a) Assert.True(Bits.Identical(t, b[name]), name);
        // The exported file holds exactly the release file's tensors.
        var release = TorchZipReader.ReadStateDict(Path.Combine(ReleaseFixtures.TinyModel, "final_model.pt"));
        var ours = TorchZipReader.ReadStateDict(Path.Combine(dir["export"], "final_model.pt"));
        Assert.Equal(release.Keys.Order(), ours.Keys.Order());
        foreach (var (name, t) in release) Assert.True(Bits.Identical(t, ours[name]), name);
    }

    [Fact]
    public void A_run_trained_here_exports_and_imports_with_every_weight_unchanged()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        ModelConfig config = NativeRun.Create(dir["native"]);
        OfficialExportResult exported = OfficialExport.Run(dir["native"], dir["export"], CheckpointChoice.Latest, NullProgress.Instance);
        Assert.Contains(exported.Notes, n => n.Contains("epsilon"));
        Assert.Contains(exported.Notes, n => n.Contains("tokenizer_name"));
        Assert.Equal("custom", JsonNode.Parse(File.ReadAllText(dir["export/beeg_config.json"]))!["tokenizer_name"]!.GetValue<string>());
        Import(dir["export"], dir["imported"], tokenizer: dir["export/tokenizer"]);

        using var native = TrainedModel.Load(dir["native"], CheckpointChoice.Latest);
        using var imported = TrainedModel.Load(dir["imported"]);
        var a = native.Model.state_dict();
        var b = imported.Model.state_dict();
        foreach (var (name, t) in a) Assert.True(Bits.Identical(t, b[name]), name);
        Assert.True(b["transformer.wpe.weight"].count_nonzero().item<long>() == 0); // the release always adds wpe: zeros
        // What the release cannot carry is exactly what differs: the RMSNorm epsilon.
        ModelConfig back = imported.Config.Model;
        Assert.Equal(config.ActivationSparsity, back.ActivationSparsity);
        Assert.Equal((config.NLayer, config.DModel, config.NHead, config.DHead, config.MlpWidth, config.NCtx, config.VocabSize),
            (back.NLayer, back.DModel, back.NHead, back.DHead, back.MlpWidth, back.NCtx, back.VocabSize));
        Assert.Equal(ReleaseConfig.RmsNormEps, back.NormEps);
        Assert.Equal(native.Tokenizer.Hash, imported.Tokenizer.Hash);
    }

    [Fact]
    public void A_model_with_heads_wider_than_its_residual_stream_imports_and_computes_the_same()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        // The fixture's config with 4 heads of 32 on a 64-wide residual stream, random weights.
        JsonObject json = JsonNode.Parse(File.ReadAllText(Path.Combine(ReleaseFixtures.TinyModel, "beeg_config.json")))!.AsObject();
        json["d_head"] = 32;
        string configPath = dir.Write("source/beeg_config.json", json.ToJsonString());
        ModelConfig config = ReleaseConfig.Read(configPath).Model;
        Assert.Equal(128, config.DAttn);
        using var original = new SparseGpt(config, new TorchSharp.torch.Generator(9));
        using (no_grad())
            foreach (var (_, t) in original.state_dict()) t.normal_(0, 0.2, new TorchSharp.torch.Generator(10));
        TorchZipWriter.WriteStateDict(dir["source/final_model.pt"], ReleaseWeights.FromModel(original));

        Import(dir["source"], dir["run"]);
        using var imported = TrainedModel.Load(dir["run"]);
        Assert.Equal(config, imported.Config.Model);
        original.eval();
        using var _ = no_grad();
        Tensor tokens = randint(0, 2048, [2, 20], dtype: ScalarType.Int64, generator: new TorchSharp.torch.Generator(11));
        Assert.True(Bits.Identical(original.forward(tokens), imported.Model.forward(tokens)));
    }

    [Fact]
    public void What_the_release_leaves_out_is_filled_in_as_its_loader_does()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        // A bias-free model saved from the release's non-flash attention (causal-mask buffers) without final_logits_bias.
        JsonObject json = JsonNode.Parse(File.ReadAllText(Path.Combine(ReleaseFixtures.TinyModel, "beeg_config.json")))!.AsObject();
        json["bias"] = false;
        ModelConfig config = ReleaseConfig.Read(dir.Write("source/beeg_config.json", json.ToJsonString())).Model;
        using var original = new SparseGpt(config, new TorchSharp.torch.Generator(12));
        using (no_grad())
            foreach (var (name, t) in original.state_dict())
                if (name.EndsWith(".bias") || name == "final_logits_bias") t.zero_();
                else t.normal_(0, 0.2, new TorchSharp.torch.Generator(13));
        var release = ReleaseWeights.FromModel(original).Where(t => !t.Name.EndsWith(".bias") && t.Name != "final_logits_bias").ToList();
        for (int i = 0; i < config.NLayer; i++) release.Add(($"transformer.h.{i}.attn.bias", ones(64, 64).tril().view(1, 1, 64, 64)));
        TorchZipWriter.WriteStateDict(dir["source/final_model.pt"], release);

        OfficialImportResult result = Import(dir["source"], dir["run"]);
        Assert.Contains(result.Source.Notes, n => n.Contains("bias: false"));
        Assert.Contains(result.Source.Notes, n => n.Contains("final_logits_bias absent"));
        Assert.Contains(result.Source.Notes, n => n.Contains("2 causal-mask buffers"));
        using var imported = TrainedModel.Load(dir["run"]);
        original.eval();
        using var _ = no_grad();
        Tensor tokens = randint(0, 2048, [2, 30], dtype: ScalarType.Int64, generator: new TorchSharp.torch.Generator(14));
        Assert.True(Bits.Identical(original.forward(tokens), imported.Model.forward(tokens)));

        // Biases in a file whose config says there are none: the two disagree, refused.
        TorchZipWriter.WriteStateDict(dir["source/final_model.pt"], ReleaseWeights.FromModel(original));
        var e = Assert.Throws<SparseCircuitsException>(() => Import(dir["source"], dir["run2"]));
        Assert.Contains("bias: false", e.Message);
    }

    /// <summary>Each way a download can be broken, made from the fixture.</summary>
    public static TheoryData<string, string> BrokenSources() => new()
    {
        { "not_a_zip", "not a PyTorch checkpoint" },
        { "truncated_zip", "truncated" },
        { "disallowed_global", "os.system" },
        { "missing_storage", "has no final_model/data/3" },
        { "storage_too_short", "holds 12 bytes" },
        { "config_missing_n_layer", "n_layer is missing" },
        { "unsupported_feature", "cat_pos_emb" },
        { "tokenizer_disagrees", "disagrees with" },
        { "weights_of_another_config", "different model config" },
    };

    [Theory]
    [MemberData(nameof(BrokenSources))]
    public void Broken_input_is_one_line_and_writes_nothing(string broken, string message)
    {
        using var dir = new TempDir();
        string source = dir["source"], tokenizer = dir["tokenizer"];
        Break(broken, source, tokenizer);

        var e = Assert.Throws<SparseCircuitsException>(() => Import(source, dir["out/run"], tokenizer));
        output.WriteLine(e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(dir["out/run"]));
        Assert.True(!Directory.Exists(dir["out"]) || !Directory.EnumerateFileSystemEntries(dir["out"]).Any(), "something was left in the output's parent");
    }

    /// <summary>Copies the fixture to <paramref name="source"/> and the tokenizer to <paramref name="tokenizer"/>, then breaks one thing.</summary>
    static void Break(string broken, string source, string tokenizer)
    {
        Directory.CreateDirectory(source);
        Directory.CreateDirectory(tokenizer);
        foreach (string f in new[] { "final_model.pt", "beeg_config.json" }) File.Copy(Path.Combine(ReleaseFixtures.TinyModel, f), Path.Combine(source, f));
        foreach (string f in new[] { "encoder.json", "vocab.bpe" }) File.Copy(Path.Combine(ReleaseFixtures.Tokenizer, f), Path.Combine(tokenizer, f));
        string pt = Path.Combine(source, "final_model.pt"), config = Path.Combine(source, "beeg_config.json");
        switch (broken)
        {
            case "not_a_zip":
                File.WriteAllText(pt, "<html>404 Not Found</html>");
                break;
            case "truncated_zip":
                byte[] bytes = File.ReadAllBytes(pt);
                File.WriteAllBytes(pt, bytes[..(bytes.Length / 2)]);
                break;
            case "disallowed_global":
                // pickle protocol 2 of os.system('echo pwned'): GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP.
                byte[] evil = [0x80, 2, .. "cos\nsystem\n"u8, (byte)'X', 10, 0, 0, 0, .. "echo pwned"u8, 0x85, (byte)'R', (byte)'.'];
                RewriteZip(pt, (name, data) => name.EndsWith("/data.pkl") ? evil : data);
                break;
            case "missing_storage":
                RewriteZip(pt, (name, data) => name == "final_model/data/3" ? null : data);
                break;
            case "storage_too_short":
                RewriteZip(pt, (name, data) => name == "final_model/data/3" ? data[..12] : data);
                break;
            case "config_missing_n_layer":
                EditJson(config, j => j.Remove("n_layer"));
                break;
            case "unsupported_feature":
                EditJson(config, j => j["d_pos_emb"] = 16);
                break;
            case "tokenizer_disagrees":
                string encoder = Path.Combine(tokenizer, "encoder.json");
                File.WriteAllText(encoder, File.ReadAllText(encoder).Replace("\"#\": 2,", "\"#\": 3,"));
                break;
            case "weights_of_another_config":
                EditJson(config, j => j["d_mlp"] = 128);
                break;
            default:
                throw new ArgumentException(broken);
        }
    }

    static void EditJson(string path, Action<JsonObject> edit)
    {
        JsonObject json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Rewrites a zip entry by entry: <paramref name="map"/> returns the new data, or null to drop the entry.</summary>
    static void RewriteZip(string path, Func<string, byte[], byte[]?> map)
    {
        var entries = new List<(string, byte[])>();
        using (var zip = ZipFile.OpenRead(path))
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                using var s = entry.Open();
                using var copy = new MemoryStream();
                s.CopyTo(copy);
                if (map(entry.FullName, copy.ToArray()) is { } data) entries.Add((entry.FullName, data));
            }
        File.Delete(path);
        using var output = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, data) in entries)
        {
            using var s = output.CreateEntry(name, CompressionLevel.NoCompression).Open();
            s.Write(data);
        }
    }

    [Fact]
    public void Import_refuses_an_output_directory_that_holds_something()
    {
        using var dir = new TempDir();
        dir.Write("run/notes.txt", "mine");
        var e = Assert.Throws<SparseCircuitsException>(() => Import(ReleaseFixtures.TinyModel, dir["run"]));
        Assert.Contains("not empty", e.Message);
        Assert.Equal("mine", File.ReadAllText(dir["run/notes.txt"]));
    }

    [Fact]
    public void Without_a_tokenizer_the_import_says_which_files_it_needs()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SparseCircuitsException>(() =>
            OfficialImport.Run(new OfficialImportRequest(ReleaseFixtures.TinyModel, dir["run"], null, null, "test"), NullProgress.Instance));
        Assert.Contains("--tokenizer", e.Message);
        Assert.Contains("encoder.json", e.Message);
    }

    [Fact]
    public void Shards_given_to_the_import_become_the_runs_data_and_must_use_its_tokenizer()
    {
        using var dir = new TempDir();
        CorpusBuilder.Build(new CorpusOptions { SyntheticBytes = 60_000, SyntheticOnly = true, TrainFraction = 0.6, ValFraction = 0.2 }, dir["corpus"], NullProgress.Instance);
        ShardBuilder.Build(dir["corpus"], ReleaseFixtures.Tokenizer, dir["shards"], NullProgress.Instance);
        OfficialImport.Run(new OfficialImportRequest(ReleaseFixtures.TinyModel, dir["run"], ReleaseFixtures.Tokenizer, dir["shards"], "test"), NullProgress.Instance);
        using (var trained = TrainedModel.Load(dir["run"]))
            Assert.Equal(dir["shards"], trained.Shards().Dir);

        // Shards of another tokenizer would feed the model ids of another vocabulary.
        using var other = new TempDir();
        Directory.CreateDirectory(other["tokenizer"]);
        TokenizerFiles.Save(BpeTrainer.Train(Tests.Data.TokenizerTestData.PythonDocuments, 300), other["tokenizer"]);
        ShardBuilder.Build(dir["corpus"], other["tokenizer"], other["shards"], NullProgress.Instance);
        var e = Assert.Throws<SparseCircuitsException>(() =>
            OfficialImport.Run(new OfficialImportRequest(ReleaseFixtures.TinyModel, dir["run2"], ReleaseFixtures.Tokenizer, other["shards"], "test"), NullProgress.Instance));
        Assert.Contains("another tokenizer", e.Message);
        Assert.False(Directory.Exists(dir["run2"]));
    }

    [Fact]
    public void An_imported_run_without_shards_says_how_to_make_them()
    {
        using var dir = new TempDir();
        Import(ReleaseFixtures.TinyModel, dir["run"]);
        using var trained = TrainedModel.Load(dir["run"]);
        var e = Assert.Throws<SparseCircuitsException>(() => trained.Shards());
        Assert.Contains("circuits corpus tokenize --tokenizer", e.Message);
        Assert.Contains("--data", e.Message);
    }
}

/// <summary>A run directory as `circuits train` leaves it, with random weights: a tiny model of our own defaults.</summary>
static class NativeRun
{
    public static ModelConfig Create(string runDir)
    {
        var run = new RunDirectory(runDir);
        Directory.CreateDirectory(run.TokenizerDir);
        BpeModel bpe = BpeTrainer.Train(Tests.Data.TokenizerTestData.PythonDocuments, 300);
        TokenizerFiles.Save(bpe, run.TokenizerDir);
        var config = new TrainingConfig { Preset = "tiny", Model = ModelPresets.Tiny.For(bpe.VocabSize) with { AttentionSink = true, BigramTable = true } }.Validate();
        string configJson = Json.Serialize(config);
        using var model = new SparseGpt(config.Model, new TorchSharp.torch.Generator(5));
        using (no_grad())
            foreach (var (_, t) in model.state_dict()) t.normal_(0, 0.1, new TorchSharp.torch.Generator(6));
        new CheckpointStore(run.CheckpointsDir).Save(3, model.state_dict(), new Dictionary<string, Tensor>(), new TrainerState(3, 96, 1), configJson, null);
        File.WriteAllText(run.ConfigFile, configJson + "\n");
        return config.Model;
    }
}

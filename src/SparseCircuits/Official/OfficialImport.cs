using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Official;

/// <summary>What <c>circuits import official</c> reads and writes.</summary>
/// <param name="SourceDir">a release model directory: final_model.pt + beeg_config.json</param>
/// <param name="OutDir">the run directory to create (must not exist or be empty)</param>
/// <param name="TokenizerDir">the tokenizer (tinypython_2k's encoder.json + vocab.bpe); null: the source directory's own</param>
/// <param name="DataDir">token shards made with that tokenizer, recorded as the run's data; null: none</param>
public sealed record OfficialImportRequest(string SourceDir, string OutDir, string? TokenizerDir, string? DataDir, string CommandLine);

/// <summary>What an import made.</summary>
public sealed record OfficialImportResult(string RunDir, TrainingConfig Config, long Parameters, RunImport Source);

/// <summary>
/// Turns one of the release's models into a normal run directory (docs/official-models.md):
/// <c>config.json</c> with the model config that reproduces the release's forward, the tokenizer,
/// one checkpoint (step 0, weights as safetensors under the same names) and a manifest recording
/// the source files' hashes. Every command that takes <c>--model</c> then works on it. The run is
/// built beside its target and moved in only when complete.
/// </summary>
public static class OfficialImport
{
    public const string ModelFile = "final_model.pt";
    public const string Kind = "openai-circuit-sparsity";

    public static OfficialImportResult Run(OfficialImportRequest request, IProgressReporter progress)
    {
        TorchRuntime.EnsureInitialized();
        string source = Path.GetFullPath(request.SourceDir);
        if (File.Exists(source)) throw new SparseCircuitsException($"{request.SourceDir} is a file; give the directory holding {ModelFile} and {ReleaseConfig.FileName}");
        if (!Directory.Exists(source)) throw new SparseCircuitsException($"model directory not found: {request.SourceDir}");
        string weightsPath = Path.Combine(source, ModelFile), configPath = Path.Combine(source, ReleaseConfig.FileName);
        if (!File.Exists(weightsPath)) throw new SparseCircuitsException($"{source} has no {ModelFile}");
        string outDir = OutputPath.CheckDirectory(request.OutDir);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new SparseCircuitsException($"--out {request.OutDir} is not empty; choose a new directory for the imported run");

        ReleaseConfig release = ReleaseConfig.Read(configPath);
        CodeTokenizer tokenizer = LoadTokenizer(request.TokenizerDir, source, release);
        (string dataDir, string shardsSha256) = CheckShards(request.DataDir, tokenizer);

        var notes = new List<string>();
        using var model = new SparseGpt(release.Model);
        using (var bar = progress.Start($"reading {ModelFile}", 1, "files"))
        {
            OrderedDictionary<string, Tensor> weights = ReleaseWeights.ToModel(TorchZipReader.ReadStateDict(weightsPath), release, weightsPath, notes);
            try { ModelWeights.Import(model, weights, weightsPath); }
            finally { foreach (Tensor t in weights.Values) t.Dispose(); }
            bar.Advance(1);
        }
        model.eval();

        var files = new List<SourceFile> { SourceFile.Of(weightsPath), SourceFile.Of(configPath) };
        files.AddRange(tokenizer.SourceFiles.Select(SourceFile.Of));
        var imported = new RunImport(Kind, files, release.TokenizerName, release.IgnoredKeys, notes);
        TrainingConfig config = RunConfig(model, release.Model);
        string configJson = Json.Serialize(config);

        using var staged = new StagedDirectory(outDir, "config.json");
        var run = new RunDirectory(staged.Path);
        tokenizer.CopyFilesTo(run.TokenizerDir);
        using (var noGrad = no_grad())
            new CheckpointStore(run.CheckpointsDir).Save(0, model.state_dict(), new Dictionary<string, Tensor>(),
                new TrainerState(Step: 0, TokensSeen: 0, SamplerRngState: 0), configJson, valLoss: null);
        AtomicFile.WriteJson(run.ManifestFile, new RunManifest(1, ToolVersions.Current(), Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(configJson)),
            config.Seed, TorchRuntime.Threads, dataDir, shardsSha256, tokenizer.Hash,
            [new RunSession(DateTime.UtcNow.ToString("O"), 0, request.CommandLine)], imported));
        AtomicFile.WriteAllText(run.ConfigFile, configJson + "\n");
        staged.Commit();
        return new OfficialImportResult(outDir, config, release.Model.ParameterCount(), imported);
    }

    /// <summary>
    /// The given tokenizer, or the model directory's own; the release names its tokenizer but does
    /// not ship it with the model. Its vocabulary must be the model's.
    /// </summary>
    static CodeTokenizer LoadTokenizer(string? given, string source, ReleaseConfig release)
    {
        if (given is null && !File.Exists(Path.Combine(source, DataGymBpe.EncoderFile)) && !File.Exists(Path.Combine(source, TokenizerFiles.MetadataFile)))
            throw new SparseCircuitsException($"no tokenizer in {source}: pass --tokenizer DIR with the release's {release.TokenizerName} files ({DataGymBpe.EncoderFile} + {DataGymBpe.MergesFile})");
        string path = given ?? source;
        CodeTokenizer tokenizer = CodeTokenizer.Load(path);
        if (tokenizer.VocabSize != release.Model.VocabSize)
            throw new SparseCircuitsException($"the tokenizer in {path} has {tokenizer.VocabSize} tokens but the model's vocab_size is {release.Model.VocabSize}");
        return tokenizer;
    }

    static (string Dir, string ManifestSha256) CheckShards(string? dataDir, CodeTokenizer tokenizer)
    {
        if (dataDir is null) return ("", "");
        string dir = Path.GetFullPath(dataDir);
        ShardManifest shards = ShardManifest.Load(dir);
        if (shards.TokenizerHash != tokenizer.Hash)
            throw new SparseCircuitsException($"shards in {dataDir} were made with another tokenizer; make them with the imported one (circuits corpus tokenize --tokenizer DIR)");
        return (dir, Hashing.Sha256File(Path.Combine(dir, ShardManifest.FileName)));
    }

    /// <summary>
    /// The run's config: the imported model, and in place of training choices what the weights
    /// show: the nonzero fraction of the sparse matrices (dense when every entry is nonzero).
    /// </summary>
    static TrainingConfig RunConfig(SparseGpt model, ModelConfig config)
    {
        long entries = 0, nonzeros = 0, embeddingEntries = 0, embeddingNonzeros = 0;
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (ModelParameter p in model.SparseMatrices())
            {
                long n = p.Tensor.numel(), nz = p.Tensor.count_nonzero().item<long>();
                if (p.Kind == ParameterKind.Embedding) (embeddingEntries, embeddingNonzeros) = (embeddingEntries + n, embeddingNonzeros + nz);
                else (entries, nonzeros) = (entries + n, nonzeros + nz);
            }
        double density = Fraction(nonzeros, entries), embedding = Fraction(embeddingNonzeros, embeddingEntries);
        return new TrainingConfig
        {
            Preset = "official",
            Model = config,
            Dense = density == 1,
            WeightDensity = density,
            EmbeddingDensity = embedding,
        }.Validate();

        // Densities must lie in (0, 1]; an all-zero matrix set counts as the smallest positive one.
        static double Fraction(long part, long whole) => whole == 0 ? 1 : Math.Max(part, 1) / (double)whole;
    }
}

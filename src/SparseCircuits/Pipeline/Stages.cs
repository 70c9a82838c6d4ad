using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;

namespace SparseCircuits.Pipeline;

/// <summary>One stage's outcome, for the summary the CLI prints.</summary>
public sealed record StageResult(string Stage, bool Skipped, string Detail);

/// <summary>
/// The resumable stages shared by <c>circuits run</c> and <c>circuits sweep</c>: each is skipped
/// when its output is already there and valid, so a rerun continues where the last one stopped.
/// </summary>
public static class Stages
{
    /// <summary>corpus -> tokenizer -> shards under <paramref name="layout"/>.</summary>
    /// <param name="corpus">sources (none = the machine's Python standard library) and the synthetic part</param>
    public static IReadOnlyList<StageResult> Data(PipelineLayout layout, CorpusOptions corpus, int vocabSize, IProgressReporter progress) =>
    [
        Corpus(layout, corpus, progress),
        Tokenizer(layout, vocabSize, progress),
        Shards(layout, progress),
    ];

    /// <summary>
    /// Trains (or resumes) the run in <paramref name="modelDir"/>; a run whose latest checkpoint
    /// reached its steps is skipped. <paramref name="newConfig"/> (given the shards' vocabulary
    /// size) is only asked for when the run does not exist yet; a resumed run keeps its config.
    /// </summary>
    /// <param name="stage">the stage's name in the summary (the pipeline's dense start is a training stage too)</param>
    public static StageResult Train(string modelDir, string shardsDir, Func<int, TrainingConfig> newConfig, string commandLine,
        IProgressReporter progress, CancellationToken cancellation, string stage = "train")
    {
        var run = new RunDirectory(modelDir);
        TrainingConfig config;
        if (run.HasRun)
        {
            config = run.ReadConfig();
            var latest = new CheckpointStore(run.CheckpointsDir).Latest();
            if (latest is not null && latest.Step >= config.Steps)
                return new StageResult(stage, true, $"{Describe(config, modelDir)}, {config.Steps} steps, val {latest.ValLoss:0.000}");
        }
        else config = newConfig(ShardManifest.Load(shardsDir).VocabSize).Validate();
        var result = Trainer.Run(new TrainingRequest(config, shardsDir, modelDir, Resume: run.HasRun, CommandLine: commandLine),
            progress, cancellation);
        return new StageResult(stage, false, $"{Describe(config, modelDir)}, {result.Step} steps, val {result.ValLoss:0.000} (unigram {result.UnigramValLoss:0.000})"
            + ValParts(modelDir, shardsDir, config.EvalTokens));
    }

    /// <summary>"small", "small, dense", "small, started from dense-start/checkpoints/step_003000" (relative to the run's parent).</summary>
    static string Describe(TrainingConfig config, string modelDir) =>
        config.Preset + (config.Dense ? ", dense" : "")
        + (config.InitFrom is null ? "" : ", started from " + Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(modelDir))!, config.InitFrom));

    /// <summary>" · real code X, synthetic Y": the trained model's loss on each part of val, when the corpus has both.</summary>
    static string ValParts(string modelDir, string shardsDir, long tokens)
    {
        var shards = ShardManifest.Load(shardsDir);
        if (!shards.HasParts) return "";
        using var trained = TrainedModel.Load(modelDir);
        string Loss(CorpusPart part)
        {
            using var shard = shards.Open(shardsDir, CorpusSplit.Val, part);
            // A tiny corpus may leave a part shorter than one window: nothing to measure there.
            return shard.Length <= trained.Config.Model.NCtx ? "n/a (too few tokens)" : $"{LanguageModelEval.Loss(trained.Model, shard, tokens).LossNats:0.000}";
        }
        return $" · val real code {Loss(CorpusPart.Real)}, synthetic {Loss(CorpusPart.Synthetic)}";
    }

    /// <summary>The mean cache of <paramref name="trained"/>'s checkpoint, rebuilt when missing, stale or damaged.</summary>
    public static StageResult Means(TrainedModel trained, string shardsDir, IProgressReporter progress, long tokens = MeanCache.DefaultTokens)
    {
        using var means = MeanCache.LoadOrBuild(trained, shardsDir, tokens, progress, out MeanCacheInfo? built);
        return built is null
            ? new StageResult("means", true, $"checkpoint step {trained.Step}")
            : new StageResult("means", false, $"{built.Tokens:N0} val tokens, checkpoint step {trained.Step}");
    }

    static StageResult Corpus(PipelineLayout layout, CorpusOptions corpus, IProgressReporter progress)
    {
        string manifestPath = Path.Combine(layout.Corpus, CorpusFormat.ManifestFile);
        if (File.Exists(manifestPath))
        {
            var existing = Json.ReadFile<CorpusManifest>(manifestPath);
            var wanted = corpus.Sources.Select(Path.GetFullPath).ToList();
            if (wanted.Count > 0 && !wanted.SequenceEqual(existing.Sources.Select(s => s.Path)))
                throw new SparseCircuitsException($"{layout.Root} was built from other sources ({string.Join(", ", existing.Sources.Select(s => s.Path))}); choose another --out");
            var synthetic = existing.Synthetic ?? new CorpusSyntheticInfo(0, 0, 0, "");
            if (synthetic.Bytes != corpus.SyntheticBytes || (corpus.SyntheticBytes > 0 && synthetic.Seed != corpus.SyntheticSeed))
                throw new SparseCircuitsException($"{layout.Root} was built with {synthetic.Bytes / 1e6:0.#} MB of synthetic Python (seed {synthetic.Seed}), " +
                    $"not {corpus.SyntheticBytes / 1e6:0.#} MB (seed {corpus.SyntheticSeed}); choose another --out");
            return new StageResult("corpus", true, $"{existing.FilesKept} files");
        }
        var manifest = CorpusBuilder.Build(corpus, layout.Corpus, progress);
        return new StageResult("corpus", false, $"{manifest.FilesKept} files");
    }

    static StageResult Tokenizer(PipelineLayout layout, int vocabSize, IProgressReporter progress)
    {
        if (File.Exists(Path.Combine(layout.Tokenizer, TokenizerFiles.MetadataFile)))
            return new StageResult("tokenizer", true, $"vocab {CodeTokenizer.Load(layout.Tokenizer).VocabSize}");
        var manifest = TokenizerTraining.TrainFromCorpus(layout.Corpus, layout.Tokenizer, vocabSize, progress);
        return new StageResult("tokenizer", false, $"vocab {manifest.VocabSize}");
    }

    static StageResult Shards(PipelineLayout layout, IProgressReporter progress)
    {
        string tokenizerHash = CodeTokenizer.Load(layout.Tokenizer).Hash;
        if (File.Exists(Path.Combine(layout.Shards, ShardManifest.FileName)))
        {
            var existing = ShardManifest.Load(layout.Shards); // checks every shard's size
            if (existing.TokenizerHash == tokenizerHash)
                return new StageResult("shards", true, $"{existing.Splits["train"].Tokens:N0} train tokens");
        }
        var manifest = ShardBuilder.Build(layout.Corpus, layout.Tokenizer, layout.Shards, progress);
        return new StageResult("shards", false, $"{manifest.Splits["train"].Tokens:N0} train tokens");
    }
}

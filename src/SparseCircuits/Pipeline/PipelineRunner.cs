using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;

namespace SparseCircuits.Pipeline;

/// <param name="Sources">corpus sources; empty = the machine's Python standard library</param>
public sealed record PipelineOptions(string OutDir, string Preset = "small", IReadOnlyList<string>? Sources = null,
    int VocabSize = BpeTrainer.DefaultVocabSize, IReadOnlyList<string>? TrainingOverrides = null, string CommandLine = "");

/// <summary>One stage's outcome, for the summary the CLI prints.</summary>
public sealed record StageResult(string Stage, bool Skipped, string Detail);

/// <summary>
/// corpus -> tokenizer -> shards -> training -> mean cache -> circuits for every task, each stage
/// skipped when its output is already there and valid, so an interrupted `circuits run` resumes
/// where it stopped (training itself resumes from its last checkpoint).
/// </summary>
public static class PipelineRunner
{
    public static IReadOnlyList<StageResult> Run(PipelineOptions options, IProgressReporter progress, CancellationToken cancellation = default)
    {
        var layout = new PipelineLayout(Path.GetFullPath(options.OutDir));
        var results = new List<StageResult>
        {
            Corpus(layout, options, progress),
            Tokenizer(layout, options, progress),
            Shards(layout, progress),
            Train(layout, options, progress, cancellation),
        };
        using (var trained = TrainedModel.Load(layout.Model))
        {
            results.Add(Means(trained, layout, progress));
            results.Add(PruneTasks(trained, layout, progress));
        }
        return results;
    }

    static StageResult Means(TrainedModel trained, PipelineLayout layout, IProgressReporter progress)
    {
        try
        {
            using var existing = MeanCache.Load(ModelReference.Of(trained)); // checks it belongs to this checkpoint
            return new StageResult("means", true, $"checkpoint step {trained.Step}");
        }
        catch (SparseCircuitsException) // missing, stale (another checkpoint) or damaged: rebuild
        {
            var info = MeanCache.Build(trained, layout.Shards, MeanCache.DefaultTokens, progress);
            return new StageResult("means", false, $"{info.Tokens:N0} val tokens, checkpoint step {trained.Step}");
        }
    }

    static StageResult PruneTasks(TrainedModel trained, PipelineLayout layout, IProgressReporter progress)
    {
        string summaryPath = Path.Combine(layout.Circuits, TaskSuiteSummary.FileName);
        if (File.Exists(summaryPath)) return new StageResult("circuits", true, summaryPath);
        using MeanActivations means = MeanCache.Load(ModelReference.Of(trained));
        var summary = TaskSuitePruning.Run(trained, means, new PruningConfig().Validate(), layout.Circuits, seed: 0, progress);
        int pruned = summary.Tasks.Count(t => t.Pruned);
        return new StageResult("circuits", false,
            $"{pruned} of {summary.Tasks.Count} tasks pruned at loss {summary.TargetLoss}" +
            (summary.GeometricMeanEdges is double g ? $", geometric mean {g:0.0} edges" : " (the model reaches the target on none)"));
    }

    static StageResult Corpus(PipelineLayout layout, PipelineOptions options, IProgressReporter progress)
    {
        string manifestPath = Path.Combine(layout.Corpus, CorpusFormat.ManifestFile);
        if (File.Exists(manifestPath))
        {
            var existing = Json.ReadFile<CorpusManifest>(manifestPath);
            var wanted = (options.Sources ?? []).Select(Path.GetFullPath).ToList();
            if (wanted.Count > 0 && !wanted.SequenceEqual(existing.Sources.Select(s => s.Path)))
                throw new SparseCircuitsException($"{layout.Root} was built from other sources ({string.Join(", ", existing.Sources.Select(s => s.Path))}); choose another --out");
            return new StageResult("corpus", true, $"{existing.FilesKept} files");
        }
        var manifest = CorpusBuilder.Build(new CorpusOptions { Sources = options.Sources ?? [] }, layout.Corpus, progress);
        return new StageResult("corpus", false, $"{manifest.FilesKept} files");
    }

    static StageResult Tokenizer(PipelineLayout layout, PipelineOptions options, IProgressReporter progress)
    {
        if (File.Exists(Path.Combine(layout.Tokenizer, TokenizerFiles.MetadataFile)))
            return new StageResult("tokenizer", true, $"vocab {CodeTokenizer.Load(layout.Tokenizer).VocabSize}");
        var manifest = TokenizerTraining.TrainFromCorpus(layout.Corpus, layout.Tokenizer, options.VocabSize, progress);
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

    static StageResult Train(PipelineLayout layout, PipelineOptions options, IProgressReporter progress, CancellationToken cancellation)
    {
        var run = new RunDirectory(layout.Model);
        TrainingConfig config;
        if (run.HasRun)
        {
            config = run.ReadConfig();
            var latest = new CheckpointStore(run.CheckpointsDir).Latest();
            if (latest is not null && latest.Step >= config.Steps)
                return new StageResult("train", true, $"{config.Preset}, {config.Steps} steps, val {latest.ValLoss:0.000}");
        }
        else
        {
            int vocab = ShardManifest.Load(layout.Shards).VocabSize;
            config = ConfigLoader.Load(TrainingPresets.Get(options.Preset, vocab), null, options.TrainingOverrides ?? []).Validate();
        }
        var result = Trainer.Run(new TrainingRequest(config, layout.Shards, layout.Model, Resume: run.HasRun, CommandLine: options.CommandLine),
            progress, cancellation);
        return new StageResult("train", false, $"{config.Preset}, {result.Step} steps, val {result.ValLoss:0.000} (unigram {result.UnigramValLoss:0.000})");
    }
}

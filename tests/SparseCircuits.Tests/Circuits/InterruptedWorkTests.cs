using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Evaluation;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Circuits;

/// <summary>
/// The library work behind `means`, `eval`, `compare`, `tokenizer train`, `corpus tokenize`, `tasks mine`
/// and `sample` stops at its first progress report (the CLI's Ctrl+C handler throws from there) or
/// its first check of the command's cancellation token, and leaves no output.
/// </summary>
public sealed class InterruptedWorkTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    public void Means_stop_and_write_no_cache()
    {
        string fresh = run["means-interrupted"];
        CircuitsCliTests.CopyDirectory(run.RunDir, fresh);
        using var trained = TrainedModel.Load(fresh, CheckpointChoice.Best);
        var cancel = new CancelAtFirstReport();
        Assert.ThrowsAny<OperationCanceledException>(() => MeanCache.Build(trained, null, 512, cancel));
        Assert.Equal(1, cancel.Reports);
        Assert.False(Directory.Exists(MeanCache.Directory(fresh)) && Directory.EnumerateFiles(MeanCache.Directory(fresh)).Any(),
            "an interrupted mean cache left files behind");
    }

    [Fact]
    public void Evaluation_stops_at_its_first_report()
    {
        using var trained = TrainedModel.Load(run.RunDir, CheckpointChoice.Best);
        var (shards, data) = trained.Shards(null);
        using var shard = shards.Open(data, CorpusSplit.Val);
        var cancel = new CancelAtFirstReport();
        Assert.ThrowsAny<OperationCanceledException>(() => LanguageModelEval.Loss(trained.Model, shard, long.MaxValue, batchSize: 1, progress: cancel));
        Assert.Equal(1, cancel.Reports);
    }

    [Fact]
    public void Scorecard_stops_at_its_first_report()
    {
        using var trained = TrainedModel.Load(run.RunDir, CheckpointChoice.Best);
        var cancel = new CancelAtFirstReport();
        Assert.ThrowsAny<OperationCanceledException>(() => ModelScorecard.Measure(trained, new ScorecardOptions(), cancel));
        Assert.Equal(1, cancel.Reports);
    }

    [Fact]
    public void Tokenizer_training_stops_and_writes_no_tokenizer()
    {
        string outDir = run["tokenizer-interrupted"];
        Assert.ThrowsAny<OperationCanceledException>(() => TokenizerTraining.TrainFromCorpus(run.CorpusDir, outDir, 400, new CancelAtFirstReport()));
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "an interrupted tokenizer left files behind");
    }

    [Fact]
    public void Tokenizing_a_corpus_stops_and_writes_no_shards()
    {
        string outDir = run["shards-interrupted"];
        Assert.ThrowsAny<OperationCanceledException>(() => ShardBuilder.Build(run.CorpusDir, run.TokenizerDir, outDir, new CancelAtFirstReport()));
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "interrupted tokenization left files behind");
    }

    [Fact]
    public void Mining_and_sampling_check_the_cancellation_token()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var documents = new[] { new CorpusDocument("a.py", "", "x = 'a'\ny = \"b\"\n") };
        Assert.ThrowsAny<OperationCanceledException>(() => SparseCircuits.Tasks.RealCodePairs.Mine("single_double_quote", documents, 10, cancelled.Token));

        using var trained = TrainedModel.Load(run.RunDir);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            TextSampler.Generate(trained.Model, [1, 2, 3], new SamplingOptions(1000, 1.0, 0, 1), cancellation: cancelled.Token));
        Assert.Equal(5, TextSampler.Generate(trained.Model, [1, 2, 3], new SamplingOptions(5, 1.0, 0, 1, StopAtEndOfText: false)).Length);
    }
}

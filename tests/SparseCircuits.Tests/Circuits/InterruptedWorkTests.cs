using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Circuits;

/// <summary>
/// The library work behind `means`, `eval` and `tokenizer train` stops at its first progress
/// report once interrupted (the CLI's Ctrl+C handler throws from there) and leaves no output.
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
    public void Tokenizer_training_stops_and_writes_no_tokenizer()
    {
        string outDir = run["tokenizer-interrupted"];
        Assert.ThrowsAny<OperationCanceledException>(() => TokenizerTraining.TrainFromCorpus(run.CorpusDir, outDir, 400, new CancelAtFirstReport()));
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "an interrupted tokenizer left files behind");
    }
}

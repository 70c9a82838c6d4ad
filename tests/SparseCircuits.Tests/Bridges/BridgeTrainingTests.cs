using SparseCircuits.Bridges;
using SparseCircuits.Core;
using SparseCircuits.Tests.Support;
using SparseCircuits.Tests.Training;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Bridges;

[Collection(BridgedTinyPairCollection.Name)]
public sealed class BridgeTrainingTests(BridgedTinyPair pair)
{
    [Fact]
    public void A_tiny_bridged_pair_trains_and_its_bridge_losses_fall()
    {
        var metrics = MetricsLog.Read(pair.BridgedDir);
        Assert.Equal(BridgedTinyPair.Steps, metrics.Count);
        foreach (string term in new[] { BridgeObjective.LmTerm, BridgeObjective.NmseTerm, BridgeObjective.KlDenseToSparseTerm, BridgeObjective.KlSparseToDenseTerm })
        {
            double first = metrics.Take(5).Average(m => m.Terms![term]), last = metrics.TakeLast(5).Average(m => m.Terms![term]);
            Assert.True(last < first, $"{term}: {first:0.000} over the first 5 steps, {last:0.000} over the last 5");
        }
    }

    [Fact]
    public void Checkpoints_hold_the_bridge_maps_named_per_site()
    {
        string checkpoint = new CheckpointStore(Path.Combine(pair.BridgedDir, "checkpoints")).Latest()!.Directory;
        var tensors = SafeTensors.Read(Path.Combine(checkpoint, BridgeSet.FileName)).Tensors;
        var expected = BridgeSites.For(2).SelectMany(s => new[] { "encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias", "dense_mean", "dense_scale", "sparse_mean", "sparse_scale" }.Select(p => $"{s}.{p}"));
        Assert.Equal(expected.Order(), tensors.Keys.Order());
        Assert.Equal([32L, 32L], tensors["1.resid_mid.decoder.weight"].shape);
        Assert.True(tensors["0.resid_in.dense_scale"].item<float>() > 0);
        Assert.True(tensors["0.resid_in.sparse_scale"].item<float>() is > 0 and not 1, "the sparse scale was never measured");
        var info = BridgeRunInfo.Load(pair.BridgedDir);
        Assert.Equal(Path.GetFullPath(pair.DenseDir), info.DenseRun);
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void A_resumed_bridged_run_matches_the_uninterrupted_one_bit_for_bit()
    {
        using var dir = new TempDir();
        BridgeTraining.Run(pair.Request(dir["straight"], 20), NullProgress.Instance);
        BridgeTraining.Run(pair.Request(dir["split"], 20, stopAfter: 7), NullProgress.Instance);
        BridgeTraining.Run(pair.Request(dir["split"], 20, resume: true), NullProgress.Instance);

        var straight = MetricsLog.Read(dir["straight"]);
        var split = MetricsLog.Read(dir["split"]);
        Assert.Equal(20, split.Count);
        Assert.Equal(straight.Select(m => m.TrainLoss), split.Select(m => m.TrainLoss));
        Assert.Equal(straight.Select(m => m.Terms![BridgeObjective.KlSparseToDenseTerm]), split.Select(m => m.Terms![BridgeObjective.KlSparseToDenseTerm]));
        using var a = CheckpointStore.Load(Path.Combine(dir["straight"], "checkpoints", CheckpointStore.DirectoryName(20)));
        using var b = CheckpointStore.Load(Path.Combine(dir["split"], "checkpoints", CheckpointStore.DirectoryName(20)));
        Assert.All(a.Extra[BridgeSet.FileName], kv => Assert.True(Bits.Identical(kv.Value, b.Extra[BridgeSet.FileName][kv.Key]), kv.Key));
        Assert.All(a.Model, kv => Assert.True(Bits.Identical(kv.Value, b.Model[kv.Key]), kv.Key));
    }

    [Fact]
    public void Bridges_fitted_around_a_frozen_warm_started_model_leave_its_weights_untouched()
    {
        using var dir = new TempDir();
        string from = InitialWeights.Resolve(pair.BridgedDir);
        var request = pair.Request(dir["frozen"], 8) with { Bridges = new BridgeConfig { TrainSparseModel = false } };
        request = request with { Config = request.Config with { InitFrom = from, AnnealFraction = 0 } };
        BridgeTraining.Run(request, NullProgress.Instance);

        using var start = CheckpointStore.Load(from);
        using var end = CheckpointStore.Load(Path.Combine(dir["frozen"], "checkpoints", CheckpointStore.DirectoryName(8)));
        Assert.All(start.Model, kv => Assert.True(Bits.Identical(kv.Value, end.Model[kv.Key]), $"{kv.Key} changed"));
        var metrics = MetricsLog.Read(dir["frozen"]);
        double first = metrics[0].Terms![BridgeObjective.NmseTerm], last = metrics[^1].Terms![BridgeObjective.NmseTerm];
        Assert.True(last < first, $"the maps did not learn: nmse {first:0.000} -> {last:0.000}");
        Assert.DoesNotContain(end.Optimizer.Keys, k => k.StartsWith("transformer.", StringComparison.Ordinal)); // no moments for a model that does not train
    }

    [Fact]
    public void A_dense_run_that_is_not_dense_is_refused_in_one_line()
    {
        using var dir = new TempDir();
        var error = Assert.Throws<SparseCircuitsException>(() =>
            BridgeTraining.Run(pair.Request(dir["out"], 5) with { DenseRun = pair.BridgedDir }, NullProgress.Instance));
        Assert.Contains("is not a dense run", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(dir["out"]), "a refused run left a directory behind");
    }

    [Fact]
    public void Shards_of_another_tokenizer_or_vocabulary_are_refused_in_one_line()
    {
        using var sameVocab = SyntheticData.From(SyntheticData.CopyTaskDocuments(300, seed: 9).Select(d => d.Replace("xs", "zz")), vocab: pair.VocabSize);
        using var otherVocab = SyntheticData.From(SyntheticData.CopyTaskDocuments(300, seed: 9), vocab: pair.VocabSize - 20);
        using var dir = new TempDir();
        var tokenizer = Assert.Throws<SparseCircuitsException>(() =>
            BridgeTraining.Run(pair.Request(dir["a"], 5) with { DataDir = sameVocab.ShardDir }, NullProgress.Instance));
        Assert.Contains("different tokenizer", tokenizer.Message);
        var vocabulary = Assert.Throws<SparseCircuitsException>(() =>
            BridgeTraining.Run(pair.Request(dir["b"], 5) with { DataDir = otherVocab.ShardDir, Config = pair.Config(5) with { Model = pair.Config(5).Model with { VocabSize = otherVocab.VocabSize } } },
                NullProgress.Instance));
        Assert.Contains("vocab", vocabulary.Message);
        Assert.DoesNotContain('\n', tokenizer.Message + vocabulary.Message);
    }

    [Fact]
    public void Resuming_next_to_another_dense_model_or_without_the_bridges_is_refused()
    {
        using var dir = new TempDir();
        BridgeTraining.Run(pair.Request(dir["run"], 10, stopAfter: 5), NullProgress.Instance);
        var plain = Assert.Throws<SparseCircuitsException>(() => Trainer.Run(new TrainingRequest(pair.Config(10), pair.ShardDir, dir["run"], Resume: true), NullProgress.Instance));
        Assert.Contains("circuits bridges train --resume", plain.Message);
        var info = BridgeRunInfo.Load(dir["run"]);
        (info with { DenseModelSha256 = "0000" }).Save(dir["run"]);
        var error = Assert.Throws<SparseCircuitsException>(() => BridgeTraining.Run(pair.Request(dir["run"], 10, resume: true), NullProgress.Instance));
        Assert.Contains("dense model's weights differ", error.Message);
    }

    [Fact]
    public void Bridges_train_stops_at_its_first_report_once_interrupted()
    {
        using var dir = new TempDir();
        Assert.ThrowsAny<OperationCanceledException>(() => BridgeTraining.Run(pair.Request(dir["run"], 10), new CancelAtFirstReport()));
        Assert.Empty(new CheckpointStore(Path.Combine(dir["run"], "checkpoints")).List());
    }
}

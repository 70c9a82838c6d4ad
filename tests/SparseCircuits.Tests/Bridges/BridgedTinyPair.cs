using SparseCircuits.Bridges;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Bridges;

/// <summary>
/// A tiny dense run and a tiny sparse model with bridges trained next to it on the synthetic data,
/// plus a circuit of the built-in task quote_assign on the sparse model whose nodes include residual
/// reads (hand-picked, edges recomputed), saved where <c>bridges steer</c> looks for it.
/// </summary>
public sealed class BridgedTinyPair : IDisposable
{
    readonly SyntheticData _data = new();
    readonly TempDir _dir = new();

    public const long Steps = 60;
    public const string Task = "quote_assign";
    public static readonly NodeId SteeredNode = new(1, NodeLocation.MlpActIn, 3);
    public static readonly NodeId[] CircuitNodes = [new(0, NodeLocation.AttnActIn, 5), SteeredNode, new(1, NodeLocation.MlpPostAct, 7)];

    public string DenseDir => _dir["dense"];
    public string BridgedDir => _dir["bridged"];
    public string ShardDir => _data.ShardDir;
    public int VocabSize => _data.VocabSize;

    public BridgedTinyPair()
    {
        Trainer.Run(new TrainingRequest(Config(Steps) with { Dense = true }, ShardDir, DenseDir), NullProgress.Instance);
        BridgeTraining.Run(Request(BridgedDir, Steps), NullProgress.Instance);

        using var trained = TrainedModel.Load(BridgedDir);
        MeanCache.Build(trained, null, 1024, NullProgress.Instance);
        using var means = MeanCache.Load(ModelReference.Of(trained));
        var data = TaskDataset.FromTask(TaskRegistry.Get(Task), trained.Tokenizer, null, 24, 0, new TaskDatasetOptions { MaxPromptTokens = 32 });
        var examples = TaskExample.FromPairs(data.Pairs);
        var task = new BinaryTask(Task, examples, examples, examples);
        Circuit pruned = CircuitPruning.Run(trained.Model, means, task, new PruningConfig { TargetLoss = 5, Steps = 3, Runs = 1, ControlSets = 2 },
            NullProgress.Instance, ModelReference.Of(trained), null);
        CircuitFile.Save(Path.Combine(BridgedDir, "circuits", Task, CircuitFile.FileName), Reports.ReportRun.WithNodes(pruned, trained.Model, means, CircuitNodes));
    }

    /// <summary>The tiny preset at context 32, logging every step.</summary>
    public TrainingConfig Config(long steps) => TrainingPresets.Get("tiny", VocabSize) with
    {
        Steps = steps, BatchSize = 4, LogInterval = 1, EvalInterval = 10, CheckpointInterval = 10, EvalTokens = 256,
        Model = ModelPresets.Get("tiny", VocabSize) with { NCtx = 32 },
    };

    public BridgeTrainingRequest Request(string outDir, long steps, bool resume = false, long? stopAfter = null) =>
        new(Config(steps), new BridgeConfig(), DenseDir, ShardDir, outDir, resume, stopAfter);

    public string this[string relative] => _dir[relative];

    public void Dispose()
    {
        _dir.Dispose();
        _data.Dispose();
    }
}

/// <summary>The test classes that read <see cref="BridgedTinyPair"/> share one (it trains two models and prunes a circuit).</summary>
[CollectionDefinition(Name)]
public sealed class BridgedTinyPairCollection : ICollectionFixture<BridgedTinyPair>
{
    public const string Name = "bridged tiny pair";
}

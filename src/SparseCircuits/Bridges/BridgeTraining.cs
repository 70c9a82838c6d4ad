using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <param name="Config">the sparse model's training config (streams must be 1)</param>
/// <param name="DenseRun">the frozen dense run the sparse model is trained next to</param>
public sealed record BridgeTrainingRequest(TrainingConfig Config, BridgeConfig Bridges, string DenseRun, string DataDir, string OutDir,
    bool Resume = false, long? StopAfterStep = null, string CommandLine = "");

/// <summary>
/// <c>circuits bridges train</c>: a weight-sparse model and its bridges trained next to a frozen
/// dense model (docs/bridges.md). The run directory is an ordinary training run (every command
/// that takes a model reads its sparse model) plus <c>bridges.json</c> and the bridge maps in each
/// checkpoint; it resumes exactly like <c>circuits train</c>.
/// </summary>
public static class BridgeTraining
{
    /// <summary>Seeds the bridge weights apart from the model's own initialisation (which uses the seed itself).</summary>
    const ulong BridgeSeedSalt = 0xB81D6E5;

    /// <summary>Tokens of the val split the dense residual statistics of each site are measured on (the first windows: the same every time).</summary>
    public const long ScaleTokens = 8192;

    /// <summary>Sets each site's dense residual mean and scale (<see cref="BridgeSet"/>) from the frozen dense model on the first val windows.</summary>
    public static void MeasureDenseStatistics(Training.TrainedModel dense, BridgeSet bridges, string dataDir, ShardManifest shards, int contextLength)
    {
        using TokenShard val = shards.Open(dataDir, CorpusSplit.Val);
        var residuals = bridges.Sites.ToDictionary(s => s, _ => new List<Tensor>());
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (long[] windows in SequentialWindows.Batches(val, 8, contextLength, ScaleTokens))
        {
            var hooks = new Model.Hooks().Record(bridges.Sites);
            dense.Model.forward(tensor(windows).view(-1, contextLength + 1).narrow(1, 0, contextLength), hooks);
            foreach (string site in bridges.Sites) residuals[site].Add(hooks[site].reshape(-1, hooks[site].shape[^1]));
        }
        if (residuals[bridges.Sites[0]].Count == 0)
            throw new SparseCircuitsException($"the val split of {dataDir} is shorter than one window of {contextLength + 1} tokens; bridges measure the dense residual on it");
        foreach (string site in bridges.Sites) bridges.SetDenseStatistics(site, cat(residuals[site], 0));
    }

    public static TrainingResult Run(BridgeTrainingRequest request, IProgressReporter progress, CancellationToken cancellation = default)
    {
        TrainingConfig config = request.Config.Validate();
        BridgeConfig bridgeConfig = request.Bridges.Validate();
        TorchRuntime.EnsureInitialized();
        ShardManifest shards = ShardManifest.Load(request.DataDir);
        using TrainedModel dense = DenseReference.Load(request.DenseRun);
        if (shards.VocabSize != dense.Config.Model.VocabSize)
            throw new SparseCircuitsException($"shards in {request.DataDir} use a vocabulary of {shards.VocabSize} but the dense run {dense.Run.Path} has vocab_size {dense.Config.Model.VocabSize}");
        DenseReference.CheckPair(dense, config.Model, shards.TokenizerHash, $"shards in {request.DataDir}");
        dense.Model.MatmulPrecision = config.MatmulPrecision;

        var info = new BridgeRunInfo(dense.Run.Path, dense.CheckpointDir, DenseReference.WeightsHash(dense), dense.Tokenizer.Hash,
            BridgeSites.For(config.Model.NLayer), bridgeConfig);
        using var generator = new Generator().manual_seed((long)(config.Seed ^ BridgeSeedSalt));
        using var bridges = new BridgeSet(config.Model.NLayer, dense.Config.Model.DModel, config.Model.DModel, bridgeConfig.EncoderTopK, generator);
        MeasureDenseStatistics(dense, bridges, request.DataDir, shards, config.Model.NCtx);
        var objective = new BridgeObjective(dense.Model, bridges, bridgeConfig, info);
        return Trainer.Run(new TrainingRequest(config, request.DataDir, request.OutDir, request.Resume, request.StopAfterStep, request.CommandLine, objective),
            progress, cancellation);
    }
}

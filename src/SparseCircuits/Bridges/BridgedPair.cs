using SparseCircuits.Core;
using SparseCircuits.Training;

namespace SparseCircuits.Bridges;

/// <summary>
/// A bridged run loaded for use: its sparse model (best checkpoint), the bridge maps saved with
/// that checkpoint, and the frozen dense model they were trained next to, all in eval mode.
/// </summary>
public sealed class BridgedPair : IDisposable
{
    public required TrainedModel Sparse { get; init; }
    public required TrainedModel Dense { get; init; }
    public required BridgeSet Bridges { get; init; }
    public required BridgeRunInfo Info { get; init; }

    /// <summary>
    /// Loads the bridged run in <paramref name="runDir"/>. A run without bridges, a dense run that
    /// moved or changed, or a checkpoint without bridge maps is a one-line user error.
    /// </summary>
    public static BridgedPair Load(string runDir, CheckpointChoice choice = default)
    {
        string path = Path.GetFullPath(runDir);
        if (!Directory.Exists(path)) throw new SparseCircuitsException($"run directory not found: {path}");
        BridgeRunInfo info = BridgeRunInfo.Load(path);
        TrainedModel? sparse = null, dense = null;
        BridgeSet? bridges = null;
        try
        {
            sparse = TrainedModel.Load(path, choice);
            dense = DenseReference.Load(info.DenseRun);
            if (DenseReference.WeightsHash(dense) != info.DenseModelSha256)
                throw new SparseCircuitsException($"the dense run {info.DenseRun} now loads weights ({dense.CheckpointDir}) other than the ones the bridges were trained next to ({info.DenseCheckpoint})");
            DenseReference.CheckPair(dense, sparse.Config.Model, sparse.Tokenizer.Hash, path);
            string file = Path.Combine(sparse.CheckpointDir, BridgeSet.FileName);
            if (!File.Exists(file)) throw new SparseCircuitsException($"checkpoint {sparse.CheckpointDir} has no {BridgeSet.FileName}");
            bridges = new BridgeSet(sparse.Config.Model.NLayer, dense.Config.Model.DModel, sparse.Config.Model.DModel, info.Config.EncoderTopK);
            var saved = SafeTensors.Read(file).Tensors;
            try { bridges.Import(saved, file); }
            finally { foreach (var t in saved.Values) t.Dispose(); }
            foreach (var t in bridges.Export().Values) t.requires_grad_(false);
            return new BridgedPair { Sparse = sparse, Dense = dense, Bridges = bridges, Info = info };
        }
        catch
        {
            sparse?.Dispose();
            dense?.Dispose();
            bridges?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Sparse.Dispose();
        Dense.Dispose();
        Bridges.Dispose();
    }
}

using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Training;

namespace SparseCircuits.Bridges;

/// <summary>The frozen dense model bridges explain: loaded, checked and with gradients switched off.</summary>
public static class DenseReference
{
    /// <summary>
    /// Loads the best checkpoint of <paramref name="denseRun"/>, refusing a run that is not dense
    /// (trained without weight sparsity) and freezing every parameter.
    /// </summary>
    public static TrainedModel Load(string denseRun)
    {
        TrainedModel dense = TrainedModel.Load(denseRun);
        try
        {
            if (!dense.Config.Dense)
                throw new SparseCircuitsException($"{dense.Run.Path} is not a dense run (its config.json has dense: false); bridges explain a dense model: pass a run trained with `circuits train --dense`");
            foreach (var p in dense.Model.parameters()) p.requires_grad_(false);
            return dense;
        }
        catch
        {
            dense.Dispose();
            throw;
        }
    }

    /// <summary>SHA-256 of the weights file the dense model was loaded from.</summary>
    public static string WeightsHash(TrainedModel dense) => Hashing.Sha256File(Path.Combine(dense.CheckpointDir, CheckpointStore.ModelFile));

    /// <summary>
    /// Throws a one-line user error unless a sparse model of <paramref name="sparse"/> can be bridged
    /// to <paramref name="dense"/>: same tokenizer and vocabulary, same depth (sites pair layer by
    /// layer), a context no longer than the dense model's.
    /// </summary>
    public static void CheckPair(TrainedModel dense, ModelConfig sparse, string sparseTokenizerHash, string sparseSource)
    {
        if (sparseTokenizerHash != dense.Tokenizer.Hash)
            throw new SparseCircuitsException($"{sparseSource} uses a different tokenizer than the dense run {dense.Run.Path}; bridges need both models on the same tokens");
        if (sparse.VocabSize != dense.Config.Model.VocabSize)
            throw new SparseCircuitsException($"the sparse model has vocab_size {sparse.VocabSize} but the dense run {dense.Run.Path} has {dense.Config.Model.VocabSize}; bridges need one vocabulary");
        if (sparse.NLayer != dense.Config.Model.NLayer)
            throw new SparseCircuitsException($"the sparse model has n_layer {sparse.NLayer} but the dense run has {dense.Config.Model.NLayer}; bridges pair the layers one to one (set model.n_layer)");
        if (sparse.NCtx > dense.Config.Model.NCtx)
            throw new SparseCircuitsException($"the sparse model's n_ctx {sparse.NCtx} is longer than the dense model's {dense.Config.Model.NCtx}");
    }
}

using SparseCircuits.Core;
using SparseCircuits.Training;

namespace SparseCircuits.Circuits;

/// <summary>
/// Which weights a mean cache or a circuit belongs to: the run, the checkpoint directory and the
/// SHA-256 of its <c>model.safetensors</c> (the tie that detects a stale cache).
/// </summary>
public sealed record ModelReference(string RunDir, string Checkpoint, long Step, string CheckpointSha256)
{
    public static ModelReference Of(TrainedModel trained)
    {
        string weights = Path.Combine(trained.CheckpointDir, CheckpointStore.ModelFile);
        if (!File.Exists(weights)) throw new SparseCircuitsException($"checkpoint weights not found: {weights}");
        return new ModelReference(trained.Run.Path, Path.GetRelativePath(trained.Run.Path, trained.CheckpointDir), trained.Step, Hashing.Sha256File(weights));
    }
}

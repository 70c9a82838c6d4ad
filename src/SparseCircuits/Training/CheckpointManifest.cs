namespace SparseCircuits.Training;

/// <summary>Size and SHA-256 of one checkpoint file, so truncation and corruption are caught on load.</summary>
public sealed record CheckpointFileDigest(long Bytes, string Sha256);

/// <summary>
/// Contents of a checkpoint's <c>COMPLETE</c> file. It is written last, after every other file,
/// so its presence (and the directory's final name) means the checkpoint is whole.
/// </summary>
/// <param name="AtFinalDensity">
/// false while the weights were still being annealed towards the run's density (such a checkpoint is
/// denser than the model the run trains, so it never counts as the best); null in checkpoints written
/// before this was recorded
/// </param>
public sealed record CheckpointManifest(int Format, long Step, double? ValLoss, IReadOnlyDictionary<string, CheckpointFileDigest> Files,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] bool? AtFinalDensity = null)
{
    public const int CurrentFormat = 1;
}

/// <summary>A complete checkpoint on disk, as listed by <see cref="CheckpointStore.List"/>.</summary>
/// <param name="AtFinalDensity">see <see cref="CheckpointManifest.AtFinalDensity"/></param>
public sealed record CheckpointInfo(long Step, string Directory, double? ValLoss, bool? AtFinalDensity = null);

/// <summary>
/// Contents of <c>best.json</c> beside the checkpoints: which one has the lowest validation loss.
/// A convenience for people and scripts; the store itself recomputes the best from the manifests.
/// </summary>
public sealed record BestCheckpointPointer(int Format, long Step, string Directory, double ValLoss);

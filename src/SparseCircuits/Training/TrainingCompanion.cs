using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// Parameters trained next to the model with a loss of their own (the bridges to a frozen dense
/// model, docs/bridges.md). The trainer hands each batch to the companion instead of computing the
/// plain next-token loss, optimises its parameters with the model's (one Adam, one gradient
/// normalisation), checkpoints its tensors in a file of their own and restores them on resume, so
/// a run with a companion resumes as exactly as one without.
/// </summary>
public interface ITrainingCompanion
{
    /// <summary>The checkpoint file holding <see cref="Export"/>'s tensors, e.g. <c>bridges.safetensors</c>.</summary>
    string CheckpointFile { get; }

    /// <summary>
    /// True when only the companion trains: the model's weights stay as they started (no gradient,
    /// no optimizer step, projection or weight decay), e.g. bridges fitted around a given sparse model.
    /// </summary>
    bool FreezesModel => false;

    /// <summary>Its trainable tensors with checkpoint names distinct from the model's.</summary>
    IReadOnlyList<OptimizedParameter> Parameters { get; }

    /// <summary>
    /// Forward and backward of one batch (B, T+1) of token windows at optimizer step
    /// <paramref name="step"/> (0-based), leaving gradients in the model's and the companion's
    /// parameters; returns the total loss and its named terms (logged).
    /// </summary>
    (double Loss, IReadOnlyDictionary<string, double> Terms) ForwardBackward(SparseGpt model, Tensor windows, long step);

    /// <summary>Its tensors by checkpoint name (views of its own storage).</summary>
    IReadOnlyDictionary<string, Tensor> Export();

    /// <summary>Copies tensors saved by <see cref="Export"/> back; a mismatch is a user error naming <paramref name="source"/>.</summary>
    void Import(IReadOnlyDictionary<string, Tensor> tensors, string source);

    /// <summary>
    /// Called once per session with the run directory: before <c>config.json</c> marks a new run
    /// (write the companion's own files there), or on resume (check they still fit).
    /// </summary>
    void PrepareRun(string runDir, bool resuming);
}

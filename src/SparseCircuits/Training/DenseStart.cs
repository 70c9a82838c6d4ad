using SparseCircuits.Model;

namespace SparseCircuits.Training;

/// <summary>
/// The dense-first schedule `circuits run` trains by default (docs/training.md, "Session 16" and
/// "Dense start"): a plain transformer of the same shape first (dense weights, no AbsTopK), then the
/// weight-sparse model started from its weights (<see cref="TrainingConfig.InitFrom"/>), annealing
/// them to the target density. Why: trained from scratch, AbsTopK at the attention locations keeps
/// our small models from ever learning induction (copying an earlier token), and it erases the
/// induction of a plain start within 100 steps; weight sparsity and AbsTopK at the MLP locations
/// keep it. So the sparse stage leaves attention activations dense.
/// </summary>
public static class DenseStart
{
    /// <summary>
    /// <paramref name="config"/> with AbsTopK off at every attention location (attn_in, q, k, v,
    /// attn_out); the MLP locations keep theirs.
    /// </summary>
    public static TrainingConfig SparseStage(TrainingConfig config) => config with
    {
        Model = config.Model with
        {
            ActivationSparsity = config.Model.ActivationSparsity with { AttnIn = null, AttnQ = null, AttnK = null, AttnV = null, AttnOut = null },
        },
    };

    /// <summary>
    /// The plain model that starts <paramref name="sparse"/>: the same shape, data, optimizer and
    /// seed, trained for <paramref name="steps"/> with dense weights and no AbsTopK.
    /// </summary>
    public static TrainingConfig PlainStage(TrainingConfig sparse, long steps) => sparse with
    {
        Dense = true,
        Steps = steps,
        InitFrom = null,
        Model = sparse.Model with { ActivationSparsity = ActivationSparsity.Off },
    };
}

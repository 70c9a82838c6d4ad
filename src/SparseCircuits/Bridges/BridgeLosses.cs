using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>The two kinds of bridge loss (docs/bridges.md, "Losses"), each a mean over tokens.</summary>
public static class BridgeLosses
{
    /// <summary>Keeps a constant residual (zero variance) from dividing by zero.</summary>
    const double VarianceFloor = 1e-8;

    /// <summary>
    /// Normalised MSE of <paramref name="prediction"/> against <paramref name="target"/> (both
    /// (..., width)): per token, the mean squared error over channels divided by the target's
    /// variance over channels, then the mean over tokens. The denominator is held fixed (no
    /// gradient flows through it), so the loss cannot fall by inflating the target's variance.
    /// </summary>
    public static Tensor Nmse(Tensor prediction, Tensor target)
    {
        Tensor error = (prediction - target).square().mean([-1]); // (...)
        Tensor variance = target.detach().var([-1], unbiased: false, keepdim: false).clamp_min(VarianceFloor); // (...)
        return (error / variance).mean();
    }

    /// <summary>
    /// KL(softmax(<paramref name="referenceLogits"/>) || softmax(<paramref name="logits"/>)) in nats,
    /// per token over the last dimension, then the mean over tokens. The reference is a fixed target.
    /// </summary>
    public static Tensor Kl(Tensor referenceLogits, Tensor logits)
    {
        Tensor referenceLog = referenceLogits.detach().to(ScalarType.Float32).log_softmax(-1);
        Tensor log = logits.to(ScalarType.Float32).log_softmax(-1);
        return (referenceLog.exp() * (referenceLog - log)).sum([-1]).mean();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>The two kinds of bridge loss (docs/bridges.md, "Losses"), each a mean over tokens.</summary>
public static class BridgeLosses
{
    /// <summary>Keeps a constant residual (zero variance) from dividing by zero.</summary>
    const double VarianceFloor = 1e-8;

    /// <summary>
    /// Normalised MSE of <paramref name="prediction"/> against <paramref name="target"/> (both
    /// (..., width)): the squared error of each token's vector, averaged over tokens, divided by
    /// the target's variance over the same tokens (the mean squared distance of a token's vector
    /// from the mean vector), so predicting the mean scores 1. The denominator is held fixed (no
    /// gradient flows through it), so the loss cannot fall by inflating the target's spread.
    /// Normalising over the tokens rather than each token by its own spread matters: a token whose
    /// sparse embedding row was pruned to zero has a zero residual, and its own spread is zero.
    /// </summary>
    public static Tensor Nmse(Tensor prediction, Tensor target)
    {
        long width = target.shape[^1];
        Tensor error = (prediction - target).square().sum([-1]).mean(); // per token, then over tokens
        Tensor flat = target.detach().reshape(-1, width); // (tokens, width)
        using Scalar floor = VarianceFloor;
        Tensor variance = (flat - flat.mean([0], keepdim: true)).square().sum([-1]).mean().clamp_min(floor);
        return error / variance;
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

using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// How gradients are scaled before the optimizer step. The paper calls normalisation essential
/// but describes it two ways, so both are offered.
/// </summary>
public enum GradientNormalization
{
    /// <summary>Gradients are used as computed.</summary>
    None,
    /// <summary>Divide every gradient by the global gradient RMS, so the RMS becomes 1.</summary>
    NormalizeRms,
    /// <summary>Divide by the global RMS only when it exceeds 1 ("clipped to RMS 1").</summary>
    ClipRms,
}

public static class GradientNormalizer
{
    /// <summary>
    /// Applies <paramref name="mode"/> in place to the gradients of <paramref name="parameters"/> and
    /// returns the global RMS before scaling, RMS = sqrt(sum of g^2 over all entries / number of
    /// entries), counting only parameters that have a gradient. A zero or non-finite RMS leaves the
    /// gradients untouched (there is no direction to rescale); the returned value lets the trainer
    /// notice it.
    /// </summary>
    public static double Apply(IEnumerable<Tensor> parameters, GradientNormalization mode)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        double sumOfSquares = 0;
        long count = 0;
        foreach (Tensor g in grads)
        {
            // vector_norm reduces without a squared temporary; per-tensor norms are summed in double.
            double norm = torch.linalg.vector_norm(g).to(ScalarType.Float64).item<double>();
            sumOfSquares += norm * norm;
            count += g.numel();
        }
        double rms = count == 0 ? 0 : Math.Sqrt(sumOfSquares / count);
        bool rescale = double.IsFinite(rms) && rms > 0 && mode switch
        {
            GradientNormalization.None => false,
            GradientNormalization.NormalizeRms => true,
            GradientNormalization.ClipRms => rms > 1,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
        };
        if (rescale)
        {
            using Scalar divisor = rms; // explicit, not an implicit temporary a GC could finalise mid-call
            foreach (Tensor g in grads) g.div_(divisor);
        }
        return rms;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// Activation sparsity: per token (along the last dimension) keep the k entries of largest |x| and
/// zero the rest. The result is <c>x</c> where kept and 0 elsewhere, so gradients flow only through
/// kept entries. Ties at the k-th magnitude go to the lower channel index, so the kept set is a
/// function of the values alone (libtorch's topk picks among ties arbitrarily); see <see cref="TopKMask"/>.
/// </summary>
public static class AbsTopK
{
    /// <summary>
    /// k = floor(fraction * width), at least 1; null when the location is off (no fraction) or
    /// keeps everything (k == width). A tiny epsilon absorbs binary rounding (0.29 * 100 is
    /// 28.999... in doubles but means 29).
    /// </summary>
    public static int? K(double? fraction, int width)
    {
        if (fraction is not double f) return null;
        int k = Math.Max(1, (int)Math.Floor(f * width + 1e-9));
        return k >= width ? null : k;
    }

    /// <summary>Applies AbsTopK along the last dimension; <paramref name="k"/> null means identity.</summary>
    public static Tensor Apply(Tensor x, int? k)
    {
        if (k is not int keep || keep >= x.shape[^1]) return x;
        // Without autograd (evaluation, means, reports) the selection kernel writes the result itself.
        if (!x.requires_grad || !torch.is_grad_enabled()) return TopKMask.Keep(x, keep, byMagnitude: true);
        // With it, masked_fill is the backward libtorch already has. A C# autograd function doing the
        // same in one pass was no faster end to end and held 0.3-1.1 GB more per step (measured,
        // docs/benchmarks.md): TorchSharp keeps each custom node's tensors alive longer.
        using Tensor drop = TopKMask.Drop(x.detach(), keep, byMagnitude: true);
        return x.masked_fill(drop, 0.0);
    }
}

using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// Activation sparsity: per token (along the last dimension) keep the k entries of largest |x| and
/// zero the rest. The result is <c>x</c> where kept and 0 elsewhere, so gradients flow only through
/// kept entries. Ties at the k-th magnitude go to the lower channel index, so the kept set is a
/// function of the values alone (libtorch's topk picks among ties arbitrarily).
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
        using var scope = NewDisposeScope();
        Tensor drop;
        using (no_grad()) drop = DropMask(x.abs(), keep);
        return x.masked_fill(drop, 0.0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// True for the entries of <paramref name="magnitude"/> that are not among the
    /// <paramref name="k"/> largest of their row (last dimension): exactly width - k per row, ties
    /// at the cut-off kept in index order.
    /// </summary>
    internal static Tensor DropMask(Tensor magnitude, int k)
    {
        Tensor kth = magnitude.topk(k, dim: -1, largest: true, sorted: false).values.amin([-1], keepdim: true); // k-th largest per row
        Tensor below = magnitude < kth;
        long width = magnitude.shape[^1], rows = magnitude.numel() / width;
        if (below.sum().item<long>() == rows * (width - k)) return below; // no ties at the cut-off: the usual case
        return ResolveTies(magnitude, kth, below, k);
    }

    /// <summary>
    /// Entries equal to the cut-off value <paramref name="kth"/> fill the slots left after the ones
    /// above it, lowest index first; the remaining tied entries join <paramref name="below"/>.
    /// </summary>
    internal static Tensor ResolveTies(Tensor magnitude, Tensor kth, Tensor below, long k)
    {
        Tensor tied = magnitude == kth;
        Tensor above = below.logical_or(tied).logical_not_();
        Tensor tiedSlots = k - above.sum([-1], keepdim: true);
        return below.logical_or_(tied.logical_and(tied.cumsum(-1) > tiedSlots));
    }
}

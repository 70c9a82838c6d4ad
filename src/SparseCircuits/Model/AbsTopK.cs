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
        if (!x.requires_grad || !torch.is_grad_enabled()) return TopKMask.Keep(x, keep, byMagnitude: true).Kept;
        return Function.apply(x, keep);
    }

    /// <summary>
    /// The selection and the zeroing in one kernel pass forward, and only the zeroing of the
    /// gradient backward: the same values and gradients as <c>x.masked_fill(drop, 0)</c>, with one
    /// pass less over each activation (docs/benchmarks.md).
    /// </summary>
    sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(AbsTopK);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (kept, drop) = TopKMask.Keep((Tensor)vars[0], (int)vars[1], byMagnitude: true);
            ctx.save_for_backward([drop]);
            return kept;
        }

        // TorchSharp hands backward managed wrappers that the current dispose scope would keep until
        // the step ends, so every gradient of every AbsTopK would stay alive through the whole
        // backward. The incoming ones are released here; the one returned is released at the next
        // call on this thread, by which time libtorch holds its own reference.
        [ThreadStatic] static Tensor? handedOn;

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            handedOn?.Dispose();
            using Tensor drop = ctx.get_saved_variables()[0];
            Tensor gradient = TopKMask.ZeroDropped(gradOutput, drop).DetachFromDisposeScope();
            gradOutput.Dispose();
            handedOn = gradient;
            return [gradient, null!];
        }
    }
}

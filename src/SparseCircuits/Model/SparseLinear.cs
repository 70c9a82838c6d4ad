using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// The linear layer <c>y = x Wᵀ + b</c> with a cost that follows W's nonzeros (docs/method.md
/// "Sparse-aware execution"): the same function and gradients as <c>nn.functional.linear</c>, up
/// to float summation order.
/// <list type="bullet">
/// <item>forward <c>y = x Wᵀ</c> and input gradient <c>dx = dy W</c>: a C# kernel over W's compressed
/// rows (resp. Wᵀ's), in float32, <see cref="Multiply"/>;</item>
/// <item>weight gradient <c>dW = dyᵀ x</c>: every entry is needed (Adam and the top-k projection
/// read all of them); where x or dy is mostly zeros (AbsTopK before or after the layer) it is
/// summed over their nonzeros (<see cref="SparseWeightGradient"/>, float32), else it is libtorch's
/// dense matmul in the model's matmul precision, as in the dense path; bias gradient <c>Σ_t dy</c>.</item>
/// </list>
/// </summary>
public static class SparseLinear
{
    /// <summary><c>x Wᵀ + b</c> for x (..., in) float32 on CPU; differentiable in x, W and b.</summary>
    /// <param name="weight">the dense weight (out, in) the layout was built from (its gradient is dense)</param>
    /// <param name="precision">number format of the weight gradient's dense matmul</param>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, SparseWeight layout, MatmulPrecision precision)
    {
        if (x.shape[^1] != layout.Rows.Columns || weight.shape[0] != layout.Rows.Rows || weight.shape[1] != layout.Rows.Columns)
            throw new ArgumentException($"x [{string.Join(", ", x.shape)}] and weight [{string.Join(", ", weight.shape)}] do not match a layout of {layout.Rows.Rows} x {layout.Rows.Columns}");
        bool tracked = is_grad_enabled() && (x.requires_grad || weight.requires_grad || (bias?.requires_grad ?? false));
        if (!tracked) return Forward(x, bias, layout);
        // The flags are read here: forward runs with autograd off and may see them cleared.
        var needs = (x.requires_grad, weight.requires_grad, bias?.requires_grad ?? false);
        return Function.apply(x, weight, bias!, layout, precision, needs);
    }

    static Tensor Forward(Tensor x, Tensor? bias, SparseWeight layout)
    {
        using Tensor flat = x.reshape(-1, x.shape[^1]);
        Tensor y = Multiply(layout.Rows, flat, bias);
        if (x.dim() == 2) return y;
        long[] shape = x.shape.ToArray();
        shape[^1] = layout.Rows.Rows;
        using (y) return y.view(shape);
    }

    sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(SparseLinear);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            var weight = (Tensor)vars[1];
            var bias = (Tensor?)vars[2];
            var layout = (SparseWeight)vars[3];
            ctx.save_data("layout", layout);
            ctx.save_data("precision", vars[4]);
            ctx.save_data("shape", x.shape);
            var needs = ((bool X, bool Weight, bool Bias))vars[5];
            ctx.save_data("grads", needs);
            // x is only needed for the weight gradient (frozen weights while pruning: not at all).
            ctx.save_for_backward(needs.Weight ? [x] : []);
            return Forward(x, bias, layout);
        }

        // As in AbsTopK: TorchSharp's wrappers of the gradients handed in and out would otherwise stay
        // alive in the step's dispose scope until the step ends. The ones returned are released at
        // the next call on this thread, when libtorch holds its own references.
        [ThreadStatic] static List<Tensor>? handedOn;

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            if (handedOn is not null) foreach (Tensor t in handedOn) t.Dispose();
            handedOn = [];
            var layout = (SparseWeight)ctx.get_data("layout");
            var precision = (MatmulPrecision)ctx.get_data("precision");
            var shape = (long[])ctx.get_data("shape");
            var (needX, needWeight, needBias) = ((bool, bool, bool))ctx.get_data("grads");
            List<Tensor> saved = ctx.get_saved_variables();
            Tensor? gradX = null, gradWeight = null, gradBias = null;
            using (Tensor dy = gradOutput.reshape(-1, layout.Rows.Rows)) // (N, out)
            {
                if (needX)
                {
                    using Tensor dx = Multiply(layout.Transposed, dy, bias: null); // (N, in)
                    gradX = dx.view(shape);
                }
                if (needWeight)
                {
                    using Tensor x = saved[0].reshape(-1, layout.Rows.Columns); // (N, in)
                    gradWeight = WeightGradient(dy, x, precision);
                }
                if (needBias) gradBias = dy.sum([0L]); // (out)
            }
            foreach (Tensor t in saved) t.Dispose();
            gradOutput.Dispose();
            foreach (Tensor? g in new[] { gradX, gradWeight, gradBias })
                if (g is not null) handedOn.Add(g.DetachFromDisposeScope());
            return [gradX!, gradWeight!, gradBias!, null!, null!, null!];
        }
    }

    /// <summary>
    /// dyᵀ x (out, in), float32: summed over the nonzeros of dy or x where the sparser of them is
    /// sparse enough to be faster in this precision (<see cref="SparseWeightGradient"/>), else
    /// libtorch's dense matmul in <paramref name="precision"/> as in the dense path.
    /// </summary>
    static Tensor WeightGradient(Tensor dy, Tensor x, MatmulPrecision precision)
    {
        var (fill, outputSide) = SparseWeightGradient.Estimate(dy, x);
        if (fill <= SparseWeightGradient.MaxFill(precision)) return SparseWeightGradient.Compute(dy, x, outputSide);
        if (precision == MatmulPrecision.Fp32) return dy.t().matmul(x);
        using Tensor dyLow = dy.to(ScalarType.BFloat16), xLow = x.to(ScalarType.BFloat16), product = dyLow.t().matmul(xLow);
        return product.to(ScalarType.Float32);
    }

    /// <summary>
    /// <c>x Aᵀ (+ bias)</c>: x (N, A.Columns) float32 → (N, A.Rows), no autograd. With A = W this
    /// is the forward; with A = Wᵀ it is the input gradient (<see cref="SparseMultiply"/>).
    /// </summary>
    public static Tensor Multiply(CompressedRows a, Tensor x, Tensor? bias) => SparseMultiply.Apply(a, x, bias);
}

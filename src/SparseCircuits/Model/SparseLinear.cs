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
/// read all of them), so it is libtorch's dense matmul in the model's matmul precision, as in the
/// dense path; bias gradient <c>Σ_t dy</c>.</item>
/// </list>
/// </summary>
public static class SparseLinear
{
    /// <summary>
    /// Tokens per block: a block of x is transposed into a (in, 16) buffer, so each nonzero of W
    /// is one broadcast-multiply-add of sixteen tokens at once (one AVX-512 vector).
    /// </summary>
    const int Block = 16;

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

    /// <summary>dyᵀ x (out, in) as the dense path computes it: a libtorch matmul in <paramref name="precision"/>, float32 result.</summary>
    static Tensor WeightGradient(Tensor dy, Tensor x, MatmulPrecision precision)
    {
        if (precision == MatmulPrecision.Fp32) return dy.t().matmul(x);
        using Tensor dyLow = dy.to(ScalarType.BFloat16), xLow = x.to(ScalarType.BFloat16), product = dyLow.t().matmul(xLow);
        return product.to(ScalarType.Float32);
    }

    /// <summary>
    /// <c>x Aᵀ (+ bias)</c>: x (N, A.Columns) float32 → (N, A.Rows), no autograd. With A = W this
    /// is the forward; with A = Wᵀ it is the input gradient. Each block of 16 tokens is transposed
    /// into a (A.Columns, 16) buffer (in L1/L2), then every output row is a sum over that row's
    /// nonzeros of value × buffer row: one vector multiply-add per nonzero for 16 tokens at once.
    /// The cost is N/16 × nonzeros vector operations plus the two transposes, against N × rows × columns
    /// multiply-adds dense.
    /// </summary>
    public static unsafe Tensor Multiply(CompressedRows a, Tensor x, Tensor? bias)
    {
        if (x.dim() != 2 || x.shape[1] != a.Columns || x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU)
            throw new ArgumentException($"expected a CPU float32 (N, {a.Columns}) input; got {x.dtype} [{string.Join(", ", x.shape)}]", nameof(x));
        if (bias is not null && (bias.numel() != a.Rows || bias.dtype != ScalarType.Float32))
            throw new ArgumentException($"expected a float32 bias of {a.Rows}; got {bias.dtype} [{string.Join(", ", bias.shape)}]", nameof(bias));
        long n = x.shape[0];
        Tensor result = empty(n, a.Rows, ScalarType.Float32);
        if (n == 0 || a.Rows == 0) return result;
        Tensor input = x.is_contiguous() ? x : x.contiguous();
        Tensor? b = bias is null ? null : bias.is_contiguous() ? bias : bias.contiguous();
        try
        {
            nint inputAddress = TensorMemory.Address(input), outputAddress = TensorMemory.Address(result);
            nint biasAddress = b is null ? 0 : TensorMemory.Address(b);
            long blocks = (n + Block - 1) / Block;
            // Work per block in scalar-operation units: a vector op per nonzero and the two transposes.
            long work = a.Nonzeros + (long)a.Rows + a.Columns;
            RowParallel.For(blocks, Math.Max(1, work), (first, end) =>
            {
                float[] buffer = GC.AllocateUninitializedArray<float>(a.Columns * Block, pinned: true);
                fixed (int* start = a.Start, index = a.Index)
                fixed (float* value = a.Value, transposed = buffer)
                {
                    for (long blockIndex = first; blockIndex < end; blockIndex++)
                    {
                        long t0 = blockIndex * Block;
                        int count = (int)Math.Min(Block, n - t0);
                        TransposeIn((float*)inputAddress + t0 * a.Columns, count, a.Columns, transposed);
                        MultiplyBlock(start, index, value, a.Rows, transposed, (float*)biasAddress, (float*)outputAddress + t0 * a.Rows, count);
                    }
                }
            });
            return result;
        }
        finally
        {
            if (!ReferenceEquals(input, x)) input.Dispose();
            if (b is not null && !ReferenceEquals(b, bias)) b.Dispose();
        }
    }

    /// <summary>buffer[j * 16 + t] = x[t, j] for the block's <paramref name="count"/> tokens; missing tokens are 0.</summary>
    static unsafe void TransposeIn(float* x, int count, int columns, float* buffer)
    {
        if (count < Block) new Span<float>(buffer, columns * Block).Clear();
        for (int t = 0; t < count; t++)
        {
            float* row = x + (long)t * columns;
            float* column = buffer + t;
            for (int j = 0; j < columns; j++) column[j * Block] = row[j];
        }
    }

    /// <summary>
    /// One block: for each output row, four independent accumulators over its nonzeros (so the
    /// multiply-adds overlap), then the bias, then the 16 lanes scattered to the tokens' rows.
    /// </summary>
    static unsafe void MultiplyBlock(int* start, int* index, float* value, int rows, float* transposed, float* bias, float* output, int count)
    {
        float* lanes = stackalloc float[Block];
        for (int r = 0; r < rows; r++)
        {
            int e = start[r], stop = start[r + 1];
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (; e <= stop - 4; e += 4)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(value[e]), Vector512.Load(transposed + index[e] * Block), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Create(value[e + 1]), Vector512.Load(transposed + index[e + 1] * Block), acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.Create(value[e + 2]), Vector512.Load(transposed + index[e + 2] * Block), acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.Create(value[e + 3]), Vector512.Load(transposed + index[e + 3] * Block), acc3);
            }
            for (; e < stop; e++)
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(value[e]), Vector512.Load(transposed + index[e] * Block), acc0);
            Vector512<float> sum = (acc0 + acc1) + (acc2 + acc3);
            if (bias != null) sum += Vector512.Create(bias[r]);
            sum.Store(lanes);
            for (int t = 0; t < count; t++) output[(long)t * rows + r] = lanes[t];
        }
    }
}

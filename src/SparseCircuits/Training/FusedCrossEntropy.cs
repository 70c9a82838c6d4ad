using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// Mean cross-entropy of (N, V) logits against N target ids, as libtorch's
/// <c>cross_entropy</c>, but on CPU float32 one C# pass per row computes the row's loss and
/// writes its gradient (softmax minus one-hot, over N) while the row is in cache; backward is then
/// a scale by the incoming gradient (usually 1: no work). libtorch's log_softmax, nll_loss and
/// their two backwards pass over the (N, V) logits about six times, and at <c>small</c>'s
/// 4096 x 2048 logits that was a fifth of a training step (docs/benchmarks.md). Other devices and
/// dtypes use libtorch's op, which the tests compare against.
/// </summary>
public static class FusedCrossEntropy
{
    /// <summary>The mean loss, differentiable with respect to <paramref name="logits"/>.</summary>
    public static Tensor Mean(Tensor logits, Tensor targets)
    {
        if (logits.dim() != 2 || targets.dim() != 1 || targets.shape[0] != logits.shape[0])
            throw new ArgumentException($"expected logits (N, V) and targets (N); got [{string.Join(", ", logits.shape)}] and [{string.Join(", ", targets.shape)}]");
        bool fused = logits.device_type == DeviceType.CPU && logits.dtype == ScalarType.Float32
            && targets.device_type == DeviceType.CPU && targets.dtype == ScalarType.Int64
            && logits.shape[0] > 0 && logits.shape[1] is > 0 and <= int.MaxValue;
        return fused ? Function.apply(logits, targets) : nn.functional.cross_entropy(logits, targets);
    }

    sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(FusedCrossEntropy);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var logits = (Tensor)vars[0];
            var targets = (Tensor)vars[1];
            var (loss, gradient) = LossAndGradient(logits, targets);
            ctx.save_for_backward([gradient]);
            return loss;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            Tensor gradient = ctx.get_saved_variables()[0];
            float scale = gradOutput.item<float>();
            // Training backpropagates 1 into the loss: hand the stored gradient on without a pass over it.
            if (scale == 1f) return [gradient, null!];
            using Scalar factor = scale;
            return [gradient.mul(factor), null!];
        }
    }

    /// <summary>The mean loss (a float32 scalar) and d loss / d logits, computed without autograd.</summary>
    public static unsafe (Tensor Loss, Tensor Gradient) LossAndGradient(Tensor logits, Tensor targets)
    {
        Tensor source = logits.is_contiguous() ? logits : logits.contiguous();
        Tensor ids = targets.is_contiguous() ? targets : targets.contiguous();
        try
        {
            long rows = source.shape[0];
            int width = (int)source.shape[1];
            Tensor gradient = empty_like(source);
            var rowLoss = new double[rows];
            long* target = (long*)TensorMemory.Address(ids);
            for (long r = 0; r < rows; r++)
                if (target[r] < 0 || target[r] >= width)
                    throw new ArgumentException($"target id {target[r]} at row {r} is outside the vocabulary [0, {width})");
            nint input = TensorMemory.Address(source), output = TensorMemory.Address(gradient);
            nint targetAddress = (nint)target;
            float invRows = 1f / rows;
            RowParallel.For(rows, width, (first, end) =>
            {
                for (long r = first; r < end; r++)
                    rowLoss[r] = Row((float*)input + r * width, width, (int)((long*)targetAddress)[r], invRows, (float*)output + r * width);
            });
            double total = 0;
            foreach (double l in rowLoss) total += l; // in row order: the same loss for any worker count
            return (tensor((float)(total / rows)), gradient);
        }
        finally
        {
            if (!ReferenceEquals(source, logits)) source.Dispose();
            if (!ReferenceEquals(ids, targets)) ids.Dispose();
        }
    }

    /// <summary>
    /// One row: max, then exp(x - max) into the gradient row with its sum, then the scale to
    /// softmax / N and the one-hot subtracted. Returns log(sum exp) - x[target].
    /// </summary>
    static unsafe double Row(float* x, int width, int target, float invRows, float* gradient)
    {
        int vectorEnd = width - width % Vector512<float>.Count;
        var maxVector = Vector512.Create(float.NegativeInfinity);
        for (int i = 0; i < vectorEnd; i += Vector512<float>.Count) maxVector = Vector512.Max(maxVector, Vector512.Load(x + i));
        float max = float.NegativeInfinity;
        for (int lane = 0; lane < Vector512<float>.Count; lane++) max = Math.Max(max, maxVector[lane]);
        for (int i = vectorEnd; i < width; i++) max = Math.Max(max, x[i]);

        var shift = Vector512.Create(max);
        var sumVector = Vector512<float>.Zero;
        for (int i = 0; i < vectorEnd; i += Vector512<float>.Count)
        {
            var e = Vector512.Exp(Vector512.Load(x + i) - shift);
            e.Store(gradient + i);
            sumVector += e;
        }
        double sum = Vector512.Sum(sumVector);
        for (int i = vectorEnd; i < width; i++) { gradient[i] = MathF.Exp(x[i] - max); sum += gradient[i]; }

        float scale = (float)(invRows / sum);
        var scaleVector = Vector512.Create(scale);
        for (int i = 0; i < vectorEnd; i += Vector512<float>.Count) (Vector512.Load(gradient + i) * scaleVector).Store(gradient + i);
        for (int i = vectorEnd; i < width; i++) gradient[i] *= scale;
        gradient[target] -= invRows;
        return Math.Log(sum) + max - x[target];
    }
}

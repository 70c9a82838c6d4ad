using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// Causal attention forward + backward as the model runs it: libtorch's fused
/// scaled_dot_product_attention in fp32 and in bf16, against the explicit softmax(q kᵀ) v, on
/// scores of growing sharpness (q scaled by --sharpness; a trained model's heads are sharp).
/// Options: --batch 8 --heads 4 --ctx 256 --dhead 64 --sharpness 1,4,16 --reps 5
/// </summary>
static class AttentionBench
{
    public static readonly string[] Options = ["--batch", "--ctx", "--dhead", "--heads", "--reps", "--sharpness"];

    public static int Run(string[] args)
    {
        int batch = int.Parse(BenchArgs.Option(args, "--batch") ?? "8");
        int heads = int.Parse(BenchArgs.Option(args, "--heads") ?? "4");
        int ctx = int.Parse(BenchArgs.Option(args, "--ctx") ?? "256");
        int dHead = int.Parse(BenchArgs.Option(args, "--dhead") ?? "64");
        int reps = int.Parse(BenchArgs.Option(args, "--reps") ?? "5");
        TorchRuntime.EnsureInitialized();
        double[] sharpness = (BenchArgs.Option(args, "--sharpness") ?? "1,4,16").Split(',').Select(double.Parse).ToArray();
        Console.WriteLine($"threads {TorchRuntime.Threads}; (batch, heads, ctx, d_head) = ({batch}, {heads}, {ctx}, {dHead}); forward + backward, medians of {reps}");
        Console.WriteLine("| sharpness | fused fp32 ms | fused bf16 ms | explicit fp32 ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (double sharp in sharpness)
        {
            var g = new Generator(1, CPU);
            using Tensor q0 = randn(batch, heads, ctx, dHead, generator: g) * sharp, k0 = randn(batch, heads, ctx, dHead, generator: g),
                v0 = randn(batch, heads, ctx, dHead, generator: g), dy = randn(batch, heads, ctx, dHead, generator: g);
            double Time(Func<Tensor, Tensor, Tensor, Tensor> attention) => 1000 * BenchTiming.Median(reps, () =>
            {
                using var scope = NewDisposeScope();
                Tensor q = q0.detach().requires_grad_(true), k = k0.detach().requires_grad_(true), v = v0.detach().requires_grad_(true);
                attention(q, k, v).backward([dy]);
            });
            double fp32 = Time((q, k, v) => nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true));
            double bf16 = Time((q, k, v) => nn.functional.scaled_dot_product_attention(
                q.to(ScalarType.BFloat16), k.to(ScalarType.BFloat16), v.to(ScalarType.BFloat16), is_casual: true).to(ScalarType.Float32));
            double explicitFp32 = Time((q, k, v) =>
            {
                Tensor scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(dHead);
                using Tensor future = ones(ctx, ctx, ScalarType.Bool).triu(1);
                using TorchSharp.Scalar minusInfinity = double.NegativeInfinity;
                return scores.masked_fill(future, minusInfinity).softmax(-1).matmul(v);
            });
            Console.WriteLine($"| {sharp} | {fp32:F1} | {bf16:F1} | {explicitFp32:F1} |");
        }
        return 0;
    }
}

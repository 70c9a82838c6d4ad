using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Bench;

/// <summary>
/// Where one training step of a preset spends its time, by component, plus this machine's fp32
/// GEMM peak measured in the same process (so ratios compare across noisy machines).
/// Components that autograd interleaves (AbsTopK, attention, the unembedding and loss) are timed
/// as differences or in isolation on tensors of the step's shapes; the optimizer-side pieces are
/// timed directly on the model's real gradients. Random tokens: the cost does not depend on them.
/// Options: --presets small,base, --steps N (timed repeats per component, default 10).
/// </summary>
static class StepProfile
{
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--bigram", "--paper-sparsity", "--precision", "--presets", "--steps"];

    public static int Run(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        string[] presets = (BenchArgs.Option(args, "--presets") ?? "small,base").Split(',');
        MatmulPrecision precision = Enum.Parse<MatmulPrecision>(BenchArgs.Option(args, "--precision") ?? "fp32", ignoreCase: true);
        int repeats = int.Parse(BenchArgs.Option(args, "--steps") ?? "10");
        bool bigram = args.Contains("--bigram"), paperSparsity = args.Contains("--paper-sparsity");
        double peak = GemmPeak.Measure();
        // Without native bf16 instructions libtorch's bf16 GEMM runs at 1-3 GFLOP/s: minutes at 2048.
        bool nativeBf16 = MatmulPrecisions.Fastest() == MatmulPrecision.Bf16;
        foreach (int n in new[] { 128, 512, 2048 })
            Console.WriteLine($"GEMM {n}: fp32 {GemmPeak.Measure(n, 20):0} GFLOP/s, bf16 " +
                              (nativeBf16 ? $"{GemmPeak.Measure(n, 20, ScalarType.BFloat16):0} GFLOP/s" : "not native on this CPU"));
        Console.WriteLine($"threads {TorchRuntime.Threads}, {repeats} timed repeats per component, measured fp32 GEMM peak {peak:0} GFLOP/s");
        foreach (string preset in presets) Profile(preset, repeats, peak, precision, bigram, paperSparsity);
        return 0;
    }

    static void Profile(string preset, int repeats, double peak, MatmulPrecision precision, bool bigram, bool paperSparsity)
    {
        var config = TrainingPresets.Get(preset, 2048);
        var m = config.Model with { BigramTable = bigram, ActivationSparsity = paperSparsity ? ActivationSparsity.PaperText : config.Model.ActivationSparsity };
        config = config with { Model = m };
        int B = config.BatchSize, T = m.NCtx;
        using var generator = new TorchSharp.torch.Generator().manual_seed(1);
        using Tensor batch = randint(0, m.VocabSize, [B, T + 1], generator: generator);
        using Tensor inputs = batch.narrow(1, 0, T), targets = batch.narrow(1, 1, T).reshape(-1);

        double FwdBwd(SparseGpt model, Hooks? hooks = null) => BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            Tensor logits = model.forward(inputs, hooks);
            Tensor loss = FusedCrossEntropy.Mean(logits.view(-1, logits.shape[2]), targets); // as the trainer
            model.zero_grad();
            loss.backward();
        });
        double Fwd(SparseGpt model) => BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.forward(inputs);
        });

        using var model = new SparseGpt(m, generator) { MatmulPrecision = precision };
        using var plain = new SparseGpt(m with { ActivationSparsity = ActivationSparsity.Off }, generator) { MatmulPrecision = precision };
        double fwd = Fwd(model), fwdBwd = FwdBwd(model);
        double plainFwdBwd = FwdBwd(plain);
        // An (identity) attn.pattern hook makes every layer write attention out (scores, mask, softmax, matmul) instead of the fused kernel.
        var writtenOut = new Hooks();
        for (int layer = 0; layer < m.NLayer; layer++) writtenOut.Replace(HookPoints.AttnPattern.At(layer), p => p);
        double writtenOutFwdBwd = FwdBwd(model, writtenOut);

        // The unembedding and loss: lm_head matmul + cross-entropy, forward and backward.
        using Tensor resid = randn(B * T, m.DModel, generator: generator).requires_grad_();
        using Tensor head = (randn(m.VocabSize, m.DModel, generator: generator) * 0.02).requires_grad_();
        double HeadLoss(Func<Tensor, Tensor, Tensor> loss) => BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            loss(resid.matmul(head.t()), targets).backward();
        });
        double headLoss = HeadLoss(FusedCrossEntropy.Mean);
        double headLossLibtorch = HeadLoss((logits, y) => nn.functional.cross_entropy(logits, y));
        // Attention core (scaled dot product, causal) per layer, forward and backward.
        using Tensor q = randn(B, m.NHead, T, m.DHead, generator: generator).requires_grad_();
        using Tensor k = randn(B, m.NHead, T, m.DHead, generator: generator).requires_grad_();
        using Tensor v = randn(B, m.NHead, T, m.DHead, generator: generator).requires_grad_();
        double attention = m.NLayer * BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true).sum().backward();
        });

        // AbsTopK alone at the step's locations: the selection, and the masking with its backward.
        using Tensor narrow = randn(B * T, m.DModel, generator: generator).requires_grad_();
        using Tensor wide = randn(B * T, m.MlpWidth, generator: generator).requires_grad_();
        int? kNarrow = AbsTopK.K(0.125, m.DModel), kWide = AbsTopK.K(0.125, m.MlpWidth);
        int locations = m.NLayer * 5; // five d_model-wide locations and one MLP-wide per layer (released settings)
        double selection = BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < locations; i++) TopKMask.Drop(narrow.detach(), kNarrow!.Value, true);
            for (int i = 0; i < m.NLayer; i++) TopKMask.Drop(wide.detach(), kWide!.Value, true);
        });
        double selectionLibtorch = BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < locations; i++) TopKMask.Reference(narrow.detach(), kNarrow!.Value, true);
            for (int i = 0; i < m.NLayer; i++) TopKMask.Reference(wide.detach(), kWide!.Value, true);
        });
        double absTopK = BenchTiming.Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < locations; i++) AbsTopK.Apply(narrow, kNarrow).sum().backward();
            for (int i = 0; i < m.NLayer; i++) AbsTopK.Apply(wide, kWide).sum().backward();
        });

        double[] forwardOps = ForwardOps(m, B * T, repeats, precision, generator, out string[] opNames);

        // Optimizer side, on real gradients (left by the last FwdBwd of `model`).
        var parameters = model.DescribeParameters();
        Tensor[] tensors = parameters.Select(p => (Tensor)p.Tensor).ToArray();
        using var optimizer = new AdamWithDecoupledDecay(parameters.Select(p => new OptimizedParameter(p.Name, p.Tensor, p.IsSparseMatrix)), config.Optimizer);
        double gradNorm = BenchTiming.Median(repeats, () => GradientNormalizer.Apply(tensors, GradientNormalization.NormalizeRms));
        double adam = BenchTiming.Median(repeats, () => optimizer.Step(1e-4));
        long annealedStep = (long)(config.Steps * config.AnnealFraction); // the projection at its final (smallest) budget
        double projection = BenchTiming.Median(repeats, () => Trainer.Project(parameters, config, annealedStep));
        double decay = BenchTiming.Median(repeats, () => optimizer.ApplyWeightDecay(1e-4));
        double zeroGrad = BenchTiming.Median(repeats, () => model.zero_grad());

        double step = fwdBwd + gradNorm + adam + projection + decay;
        double tokens = config.TokensPerStep;
        double flops = TrainingBench.FlopsPerToken(m) * tokens;
        Console.WriteLine();
        Console.WriteLine($"## {preset} ({precision.ToString().ToLowerInvariant()} matmuls{(bigram ? ", bigram table" : "")}{(paperSparsity ? ", AbsTopK 1/4 at all 8 locations" : "")}): batch {B} x {T} tokens, d_model {m.DModel}, {m.NLayer} layers; step ≈ {step * 1000:0} ms " +
                          $"= {tokens / step:N0} tokens/s, {flops / step / 1e9:0.0} GFLOP/s = {100 * flops / step / 1e9 / peak:0}% of the measured peak");
        Console.WriteLine("| component | ms per step | share of step |");
        Console.WriteLine("|---|---|---|");
        void Row(string name, double seconds) => Console.WriteLine($"| {name} | {seconds * 1000:0.0} | {100 * seconds / step:0}% |");
        Row("forward + backward (whole model)", fwdBwd);
        Row("  of which forward", fwd);
        Row("  (the same with attention written out instead of fused SDPA)", writtenOutFwdBwd);
        Row("  of which AbsTopK (fwd+bwd with it minus without)", fwdBwd - plainFwdBwd);
        Row("    AbsTopK alone: selection (mask) at every location", selection);
        Row("    (the same selection with libtorch topk, as before TopKMask)", selectionLibtorch);
        Row("    AbsTopK alone: selection + masked_fill fwd/bwd (+ a sum)", absTopK);
        Row("  of which attention core (SDPA fwd+bwd, all layers)", attention);
        Row("  of which lm_head + cross-entropy (fwd+bwd, `FusedCrossEntropy`)", headLoss);
        Row("    the same with libtorch's cross_entropy (before)", headLossLibtorch);
        Row("  of which the rest (layer matmuls, norms, GELU, residuals)", plainFwdBwd - attention - headLoss);
        Row("gradient RMS normalisation", gradNorm);
        Row("Adam step", adam);
        Row("top-k weight projection", projection);
        Row("weight decay", decay);
        Row("(zero_grad, inside forward + backward)", zeroGrad);
        Console.WriteLine();
        Console.WriteLine($"Forward pass by op, each timed alone at the step's shapes (no autograd), times its count per forward; measured forward {fwd * 1000:0.0} ms:");
        Console.WriteLine("| op | ms per forward |");
        Console.WriteLine("|---|---|");
        for (int i = 0; i < opNames.Length; i++) Console.WriteLine($"| {opNames[i]} | {forwardOps[i] * 1000:0.0} |");
        Console.WriteLine($"| sum | {forwardOps.Sum() * 1000:0.0} |");
    }

    /// <summary>Each kind of op of one forward, timed alone on (tokens, width) activations and multiplied by how often a forward runs it.</summary>
    static double[] ForwardOps(ModelConfig m, int tokens, int repeats, MatmulPrecision precision, TorchSharp.torch.Generator g, out string[] names)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int d = m.DModel, mlp = m.MlpWidth, L = m.NLayer;
        Tensor x = randn(tokens, d, generator: g), h = randn(tokens, mlp, generator: g), w = ones(d);
        ScalarType mm = precision == MatmulPrecision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        double Linear(int fanIn, int fanOut)
        {
            Tensor input = randn(tokens, fanIn, generator: g), weight = randn(fanOut, fanIn, generator: g) * 0.02, bias = zeros(fanOut);
            return BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); nn.functional.linear(input.to(mm), weight.to(mm), bias.to(mm)).to(ScalarType.Float32); });
        }
        Tensor q = randn(tokens / m.NCtx, m.NHead, m.NCtx, m.DHead, generator: g).to(mm);
        Tensor logits = randn(tokens, m.VocabSize, generator: g), targets = randint(0, m.VocabSize, [tokens], generator: g);
        var ops = new (string Name, int Count, Func<double> Seconds)[]
        {
            ("RMSNorm (d_model)", 2 * L + 1, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); _ = x * (x.square().mean([-1], keepdim: true) + 1e-5).rsqrt() * w; })),
            ("AbsTopK at d_model width", 5 * L, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); AbsTopK.Apply(x, AbsTopK.K(0.125, d)); })),
            ("AbsTopK at d_mlp width", L, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); AbsTopK.Apply(h, AbsTopK.K(0.125, mlp)); })),
            ("linear c_attn (d -> 3d)", L, () => Linear(d, 3 * d)),
            ("linear attn c_proj (d -> d)", L, () => Linear(d, d)),
            ("linear c_fc (d -> 4d)", L, () => Linear(d, mlp)),
            ("linear mlp c_proj (4d -> d)", L, () => Linear(mlp, d)),
            ("attention core (SDPA)", L, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); nn.functional.scaled_dot_product_attention(q, q, q, is_casual: true); })),
            ("GELU (d_mlp)", L, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); nn.functional.gelu(h); })),
            ("residual add", 2 * L, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); _ = x + x; })),
            ("lm_head (d -> vocab)", 1, () => Linear(d, m.VocabSize)),
            ("cross-entropy (vocab)", 1, () => BenchTiming.Median(repeats, () => { using var s = NewDisposeScope(); nn.functional.cross_entropy(logits, targets); })),
        };
        names = ops.Select(o => $"{o.Name} x {o.Count}").ToArray();
        return ops.Select(o => o.Count * o.Seconds()).ToArray();
    }

}

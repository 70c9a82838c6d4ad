using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

/// <summary>
/// An independent float64 forward pass written from docs/method.md: reads weights by their state_dict
/// names, loops over heads, writes softmax and GELU out, and does AbsTopK by sorting in C#.
/// </summary>
internal static class Reference
{
    public static Tensor Logits(ModelConfig c, IReadOnlyDictionary<string, Tensor> p, Tensor tokens)
    {
        long B = tokens.shape[0], T = tokens.shape[1];
        int H = c.DModel / c.DHead, D = c.DHead;
        var s = c.ActivationSparsity;
        Tensor W(string name) => p[name].to(ScalarType.Float64);
        Tensor Linear(Tensor x, string prefix) => x.matmul(W(prefix + ".weight").t()) + W(prefix + ".bias");

        Tensor x = W("transformer.wte.weight").index_select(0, tokens.flatten()).view(B, T, c.DModel);
        if (c.PositionalEmbedding == PositionalEmbedding.Learned)
            x = x + W("transformer.wpe.weight").narrow(0, 0, T).unsqueeze(0);

        for (int i = 0; i < c.NLayer; i++)
        {
            string h = $"transformer.h.{i}.";
            Tensor a = TopK(Rms(x, W(h + "ln_1.weight"), c.NormEps), s.AttnIn);
            Tensor qkv = Linear(a, h + "attn.c_attn");
            Tensor q = TopK(qkv.narrow(-1, 0, H * D), s.AttnQ);
            Tensor k = TopK(qkv.narrow(-1, H * D, H * D), s.AttnK);
            Tensor v = TopK(qkv.narrow(-1, 2 * H * D, H * D), s.AttnV);
            var heads = new List<Tensor>();
            for (int head = 0; head < H; head++)
            {
                Tensor qh = q.narrow(-1, head * D, D), kh = k.narrow(-1, head * D, D), vh = v.narrow(-1, head * D, D);
                if (c.SmearedKeys)
                {
                    // Each key mixed with the previous position's (zero before the first), weight sigmoid(logit).
                    double mix = 1 / (1 + Math.Exp(-W(h + "attn.smear.smear_logit")[head].item<double>()));
                    var rows = new List<Tensor> { (1 - mix) * kh.narrow(1, 0, 1) };
                    for (long t = 1; t < T; t++) rows.Add((1 - mix) * kh.narrow(1, t, 1) + mix * kh.narrow(1, t - 1, 1));
                    kh = cat(rows, dim: 1);
                }
                if (c.PositionalEmbedding == PositionalEmbedding.Rotary) (qh, kh) = (Rotate(qh), Rotate(kh));
                Tensor e = (qh.matmul(kh.transpose(1, 2)) / Math.Sqrt(D)).exp(); // (B, T, T)
                e = e * ones(T, T, ScalarType.Float64).tril(); // causal: key j <= query i
                Tensor denominator = e.sum([-1], keepdim: true);
                if (c.AttentionSink) denominator = denominator + W(h + "attn.attn_imp.sink_logit")[head].exp();
                heads.Add((e / denominator).matmul(vh));
            }
            Tensor y = cat(heads, -1);
            x = x + TopK(Linear(y, h + "attn.c_proj"), s.AttnOut);

            Tensor m = TopK(Rms(x, W(h + "ln_2.weight"), c.NormEps), s.MlpIn);
            Tensor pre = Linear(m, h + "mlp.c_fc");
            Tensor act = c.Activation == MlpActivation.Gelu
                ? 0.5 * pre * (1 + (pre / Math.Sqrt(2)).erf())
                : pre.clamp_min(0);
            act = TopK(act, s.MlpNeuron);
            x = x + TopK(Linear(act, h + "mlp.c_proj"), s.MlpOut);
        }

        Tensor logits = Rms(x, W("transformer.ln_f.weight"), c.NormEps).matmul(W("lm_head.weight").t()) + W("final_logits_bias");
        if (c.BigramTable) logits = logits + W("bigram_table").index_select(0, tokens.flatten()).view(B, T, -1);
        return logits;
    }

    /// <summary>RoPE on (B, T, D): channel i and i + D/2 turned by position * 10000^(-2i/D).</summary>
    static Tensor Rotate(Tensor x)
    {
        long B = x.shape[0], T = x.shape[1], D = x.shape[2], half = D / 2;
        double[] values = x.contiguous().data<double>().ToArray(), result = new double[values.Length];
        for (long b = 0; b < B; b++)
            for (long t = 0; t < T; t++)
                for (long i = 0; i < half; i++)
                {
                    double angle = t / Math.Pow(10000, 2.0 * i / D);
                    long first = (b * T + t) * D + i, second = first + half;
                    result[first] = values[first] * Math.Cos(angle) - values[second] * Math.Sin(angle);
                    result[second] = values[second] * Math.Cos(angle) + values[first] * Math.Sin(angle);
                }
        return tensor(result, ScalarType.Float64).view(B, T, D);
    }

    static Tensor Rms(Tensor x, Tensor weight, double eps) =>
        x / (x.pow(2).mean([-1], keepdim: true) + eps).sqrt() * weight;

    /// <summary>Keeps floor(frac * width) (at least 1) largest |x| per row; ties to the lower index.</summary>
    public static Tensor TopK(Tensor x, double? fraction)
    {
        if (fraction is not double f) return x;
        int width = (int)x.shape[^1];
        int k = Math.Max(1, (int)Math.Floor(f * width + 1e-9));
        double[] values = x.contiguous().data<double>().ToArray();
        var result = new double[values.Length];
        for (int row = 0; row < values.Length / width; row++)
        {
            int offset = row * width;
            foreach (int i in Enumerable.Range(0, width).OrderByDescending(i => Math.Abs(values[offset + i])).ThenBy(i => i).Take(k))
                result[offset + i] = values[offset + i];
        }
        return tensor(result, ScalarType.Float64).view(x.shape);
    }
}

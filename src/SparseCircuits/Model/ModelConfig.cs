using System.Text.Json.Serialization;
using SparseCircuits.Core;

namespace SparseCircuits.Model;

public enum MlpActivation { Gelu, Relu }

/// <summary>none (the paper), learned absolute <c>wpe</c> (the official code), or rotary q/k (beyond the paper).</summary>
public enum PositionalEmbedding { None, Learned, Rotary }

/// <summary>
/// The shape and options of a <see cref="SparseGpt"/>. Defaults are the paper's (docs/method.md, "Model"):
/// 8 layers, d_model 256 ("1x"), d_head 16, d_mlp 4*d_model, context 256, RMSNorm, exact GELU, no
/// positional embedding, released-model activation sparsity. <see cref="VocabSize"/> comes from the
/// tokenizer. Serialised as snake_case JSON next to every checkpoint.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Tokenizer vocabulary size; 0 means "not set yet" and fails validation.</summary>
    public int VocabSize { get; init; }
    public int NLayer { get; init; } = 8;
    public int DModel { get; init; } = 256;
    public int DHead { get; init; } = 16;
    /// <summary>
    /// Attention width n_head * d_head (q, k, v and the input of attn.c_proj); null means d_model,
    /// as in our models. The release's models may have heads wider or narrower than the residual
    /// stream (docs/official-models.md). Left out of config files when null, so our configs and
    /// their hashes stay what they were before the field existed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? DAttn { get; init; }
    /// <summary>MLP hidden width; null means 4 * d_model (see <see cref="MlpWidth"/>).</summary>
    public int? DMlp { get; init; }
    /// <summary>Longest sequence the model accepts (and the size of <c>wpe</c> when learned).</summary>
    public int NCtx { get; init; } = 256;
    public double NormEps { get; init; } = 1e-5;
    public MlpActivation Activation { get; init; } = MlpActivation.Gelu;
    public PositionalEmbedding PositionalEmbedding { get; init; } = PositionalEmbedding.None;
    /// <summary>Per-head learnable logit on an always-visible zero key/value slot (init 0).</summary>
    public bool AttentionSink { get; init; }
    /// <summary>Dense vocab x vocab table whose row for the current token is added to the logits.</summary>
    public bool BigramTable { get; init; }
    /// <summary>
    /// Smeared keys (Olsson et al. 2022), beyond the paper: each head's key at position t is mixed
    /// with the key at t - 1 by a learned per-head weight, so one attention layer can find "the
    /// token after an earlier copy of this one" (induction) without first building a
    /// previous-token head. Left out of config files when off.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool SmearedKeys { get; init; }
    public ActivationSparsity ActivationSparsity { get; init; } = ActivationSparsity.Released;

    [JsonIgnore] public int NHead => (DAttn ?? DModel) / DHead;
    [JsonIgnore] public int MlpWidth => DMlp ?? 4 * DModel;

    public ModelConfig WithVocab(int vocabSize) => this with { VocabSize = vocabSize };

    /// <summary>Parameter count of a config, as <see cref="SparseGpt"/> would allocate it (buffers excluded).</summary>
    public long ParameterCount()
    {
        long d = DModel, heads = (long)NHead * DHead, mlp = MlpWidth, v = VocabSize;
        long perLayer = d                             // ln_1
            + d * 3 * heads + 3 * heads               // c_attn
            + heads * d + d                           // attn c_proj
            + (AttentionSink ? NHead : 0)
            + (SmearedKeys ? NHead : 0)
            + d                                       // ln_2
            + d * mlp + mlp                           // c_fc
            + mlp * d + d;                            // mlp c_proj
        return v * d                                  // wte
            + (PositionalEmbedding == PositionalEmbedding.Learned ? (long)NCtx * d : 0)
            + NLayer * perLayer
            + d                                       // ln_f
            + d * v                                   // lm_head
            + (BigramTable ? v * v : 0);
    }

    /// <summary>Throws <see cref="SparseCircuitsException"/> naming the first bad field and its allowed range.</summary>
    public ModelConfig Validate()
    {
        Positive(VocabSize, "vocab_size", " (set it from the tokenizer: config.WithVocab(n))");
        Positive(NLayer, "n_layer");
        Positive(DModel, "d_model");
        Positive(DHead, "d_head");
        if (DAttn is int dAttn)
        {
            Positive(dAttn, "d_attn", " (or null for d_model)");
            if (dAttn % DHead != 0)
                throw new SparseCircuitsException($"model config: d_attn must be a multiple of d_head ({DHead}) so that n_head = d_attn / d_head; got {dAttn}");
        }
        else if (DModel % DHead != 0)
            throw new SparseCircuitsException($"model config: d_model must be a multiple of d_head ({DHead}) so that n_head = d_model / d_head; got {DModel}");
        if (DMlp is int dMlp) Positive(dMlp, "d_mlp", " (or null for 4 * d_model)");
        Positive(NCtx, "n_ctx");
        if (!(NormEps > 0 && NormEps < 1))
            throw new SparseCircuitsException($"model config: norm_eps must be in (0, 1); got {NormEps}");
        if (!Enum.IsDefined(Activation))
            throw new SparseCircuitsException($"model config: activation must be gelu or relu; got {(int)Activation}");
        if (!Enum.IsDefined(PositionalEmbedding))
            throw new SparseCircuitsException($"model config: positional_embedding must be none, learned or rotary; got {(int)PositionalEmbedding}");
        if (PositionalEmbedding == PositionalEmbedding.Rotary && DHead % 2 != 0)
            throw new SparseCircuitsException($"model config: positional_embedding rotary needs an even d_head; got {DHead}");
        if (ActivationSparsity is null)
            throw new SparseCircuitsException("model config: activation_sparsity must be an object (use null fractions to turn locations off)");
        ActivationSparsity.Validate();
        return this;

        static void Positive(long value, string field, string hint = "")
        {
            if (value < 1) throw new SparseCircuitsException($"model config: {field} must be >= 1; got {value}{hint}");
        }
    }
}

/// <summary>
/// AbsTopK fraction per location (null = off): at each location keep, per token, the
/// k = floor(frac * width) entries of largest |x| (at least 1). q/k/v fractions apply over all
/// n_head * d_head channels, not per head. Names match the official release.
/// </summary>
public sealed record ActivationSparsity
{
    /// <summary>After norm1 (input to attention).</summary>
    public double? AttnIn { get; init; }
    public double? AttnQ { get; init; }
    public double? AttnK { get; init; }
    public double? AttnV { get; init; }
    /// <summary>After the attention c_proj (the attention write to the residual).</summary>
    public double? AttnOut { get; init; }
    /// <summary>After norm2 (input to the MLP).</summary>
    public double? MlpIn { get; init; }
    /// <summary>After the MLP activation function.</summary>
    public double? MlpNeuron { get; init; }
    /// <summary>After the MLP c_proj (the MLP write to the residual).</summary>
    public double? MlpOut { get; init; }

    /// <summary>No activation sparsity anywhere (a plain dense-activation transformer).</summary>
    public static ActivationSparsity Off { get; } = new();

    /// <summary>The released models: 1/8 on attn_in, attn_v, attn_out, mlp_in, mlp_neuron, mlp_out; q/k off.</summary>
    public static ActivationSparsity Released { get; } = new()
    {
        AttnIn = 0.125, AttnV = 0.125, AttnOut = 0.125, MlpIn = 0.125, MlpNeuron = 0.125, MlpOut = 0.125,
    };

    /// <summary>The paper's text: 1/4 at every location.</summary>
    public static ActivationSparsity PaperText { get; } = new()
    {
        AttnIn = 0.25, AttnQ = 0.25, AttnK = 0.25, AttnV = 0.25, AttnOut = 0.25, MlpIn = 0.25, MlpNeuron = 0.25, MlpOut = 0.25,
    };

    /// <summary>Every location with the same fraction (null turns all off).</summary>
    public static ActivationSparsity Uniform(double? fraction) => new()
    {
        AttnIn = fraction, AttnQ = fraction, AttnK = fraction, AttnV = fraction,
        AttnOut = fraction, MlpIn = fraction, MlpNeuron = fraction, MlpOut = fraction,
    };

    public void Validate()
    {
        Check(AttnIn, "attn_in");
        Check(AttnQ, "attn_q");
        Check(AttnK, "attn_k");
        Check(AttnV, "attn_v");
        Check(AttnOut, "attn_out");
        Check(MlpIn, "mlp_in");
        Check(MlpNeuron, "mlp_neuron");
        Check(MlpOut, "mlp_out");

        static void Check(double? fraction, string field)
        {
            if (fraction is double f && !(f > 0 && f <= 1))
                throw new SparseCircuitsException($"model config: activation_sparsity.{field} must be in (0, 1] or null (off); got {f}");
        }
    }
}

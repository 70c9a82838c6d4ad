using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// The weight-sparse GPT of docs/method.md ("Model"), all in this file, the math in the order it runs:
/// <code>
/// x = wte[tokens] (+ wpe[positions])
/// per block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
/// logits = lm_head(ln_f(x)) + final_logits_bias (+ bigram_table[tokens])
/// </code>
/// Parameter names are the official release's state_dict keys: <c>transformer.wte.weight</c>,
/// <c>transformer.wpe.weight</c> (learned positions only), <c>transformer.h.{i}.ln_1.weight</c>,
/// <c>transformer.h.{i}.attn.c_attn.weight/bias</c>, <c>transformer.h.{i}.attn.c_proj.weight/bias</c>,
/// <c>transformer.h.{i}.ln_2.weight</c>, <c>transformer.h.{i}.mlp.c_fc.weight/bias</c>,
/// <c>transformer.h.{i}.mlp.c_proj.weight/bias</c>, <c>transformer.ln_f.weight</c>,
/// <c>lm_head.weight</c>, the buffer <c>final_logits_bias</c>, and the options
/// <c>transformer.h.{i}.attn.attn_imp.sink_logit</c> (n_head) and <c>bigram_table</c> (vocab, vocab).
/// Weights are laid out like torch.nn.Linear: (out_features, in_features).
/// Activations are readable and replaceable by name through <see cref="Hooks"/>. Attention runs
/// as libtorch's fused scaled_dot_product_attention unless a sink or an <c>attn.pattern</c> hook
/// needs the probabilities, then written out (same math; tests compare both).
/// </summary>
public sealed class SparseGpt : nn.Module<Tensor, Tensor>
{
    public ModelConfig Config { get; }

    // Fields carry the registered names: TorchSharp's Module.to() swaps tensors into same-named fields.
    readonly Transformer transformer;
    readonly Linear lm_head;
    readonly Tensor final_logits_bias;
    readonly Parameter? bigram_table;
    readonly MatmulSettings matmul;

    /// <param name="generator">random source for the initial weights; null uses torch's global generator</param>
    public SparseGpt(ModelConfig config, Generator? generator = null) : base(nameof(SparseGpt))
    {
        Config = config.Validate();
        matmul = new MatmulSettings();
        transformer = new Transformer(config, matmul);
        lm_head = nn.Linear(config.DModel, config.VocabSize, hasBias: false);
        register_module("transformer", transformer);
        register_module("lm_head", lm_head);
        final_logits_bias = zeros(config.VocabSize);
        register_buffer("final_logits_bias", final_logits_bias);
        if (config.BigramTable)
        {
            bigram_table = new Parameter(zeros(config.VocabSize, config.VocabSize));
            register_parameter("bigram_table", bigram_table);
        }
        Initialize(generator);
    }

    /// <summary>
    /// The number format of every matmul (the linear layers, attention and the unembedding);
    /// parameters, activations between matmuls and gradients stay float32 either way.
    /// </summary>
    public MatmulPrecision MatmulPrecision { get => matmul.Precision; set => matmul.Precision = value; }

    /// <summary>
    /// Which kernels the linear layers (c_attn, c_proj, c_fc, lm_head) run: dense libtorch matmuls,
    /// <see cref="SparseLinear"/> over the weights' nonzeros, or per layer whichever is faster at its
    /// shape and density (<see cref="LinearKernels.Auto"/>). Same function either way, up to float
    /// summation order; the sparse kernels compute forward and input gradient in float32.
    /// </summary>
    public LinearKernels LinearKernels { get => matmul.Kernels.Value; set => matmul.Kernels.Value = value; }

    /// <summary>
    /// Builds each sparse layout once and reuses it until the returned scope is disposed; the
    /// weights must not change meanwhile (pruning: frozen weights). Outside such a scope every
    /// forward builds the layouts from the current weights.
    /// </summary>
    public IDisposable CacheSparseLayouts() => matmul.Kernels.Cache();

    /// <summary>Logits (B, T, vocab) for tokens (B, T) with T &lt;= n_ctx.</summary>
    public override Tensor forward(Tensor tokens) => forward(tokens, null);

    /// <summary>Logits (B, T, vocab); <paramref name="hooks"/> may record or replace named activations.</summary>
    public Tensor forward(Tensor tokens, Hooks? hooks) => Tail(Embed(tokens, hooks), tokens, firstLayer: 0, startAtMlp: false, hooks);

    /// <summary>Checks the tokens (B, T) and hooks, and returns the input residual stream (B, T, d_model).</summary>
    Tensor Embed(Tensor tokens, Hooks? hooks)
    {
        if (tokens.dim() != 2) throw new ArgumentException($"tokens must be (batch, time); got [{string.Join(", ", tokens.shape)}]");
        long T = tokens.shape[1];
        if (T > Config.NCtx) throw new ArgumentException($"sequence of {T} tokens is longer than n_ctx {Config.NCtx}");
        hooks?.ValidateFor(Config);
        Tensor x = transformer.wte.forward(tokens); // (B, T, d_model)
        if (transformer.wpe is not null) x = KeptScalars.Add(x, transformer.wpe.weight!.narrow(0, 0, T)); // (T, d_model) broadcast over B
        return x;
    }

    /// <summary>
    /// Runs the model from the residual stream at <paramref name="point"/> (<c>L.resid_in</c>,
    /// <c>L.resid_mid</c> or <c>final_resid</c>) with <paramref name="residual"/> (B, T, d_model)
    /// as its value, skipping everything before it (bridges run a model's tail this way). Hooks at
    /// and after the point run as in <see cref="forward(Tensor, Hooks?)"/>; <paramref name="tokens"/>
    /// (B, T) are only read by the bigram table.
    /// </summary>
    public Tensor ForwardFrom(string point, Tensor residual, Tensor tokens, Hooks? hooks = null)
    {
        if (!HookPoints.TryParse(point, Config.NLayer, out int layer, out string site)
            || (site != HookPoints.ResidIn.Name && site != HookPoints.ResidMid.Name && site != HookPoints.FinalResid))
            throw new ArgumentException($"a model tail starts at L.resid_in, L.resid_mid or final_resid; got '{point}'", nameof(point));
        hooks?.ValidateFor(Config);
        return Tail(residual, tokens, layer < 0 ? Config.NLayer : layer, site == HookPoints.ResidMid.Name, hooks);
    }

    /// <summary>
    /// Logits (B, vocab) at one position per sequence, <paramref name="positions"/> (B) int64: the
    /// same numbers as <c>forward(tokens, hooks)</c> read there, without running the unembedding
    /// on every other position (task losses only read the last prompt position, and the
    /// (B, T, vocab) logits dominate the cost of pruning on long prompts).
    /// </summary>
    public Tensor LogitsAt(Tensor tokens, Tensor positions, Hooks? hooks = null)
    {
        Tensor x = Trunk(Embed(tokens, hooks), firstLayer: 0, startAtMlp: false, hooks);
        long B = x.shape[0], D = x.shape[2];
        Tensor picked = x.gather(1, positions.view(B, 1, 1).expand(B, 1, D)).squeeze(1); // (B, d_model)
        Tensor pickedTokens = tokens.gather(1, positions.view(B, 1)); // (B, 1)
        return Head(picked.unsqueeze(1), pickedTokens).squeeze(1); // (B, vocab)
    }

    Tensor Tail(Tensor x, Tensor tokens, int firstLayer, bool startAtMlp, Hooks? hooks) =>
        Head(Trunk(x, firstLayer, startAtMlp, hooks), tokens);

    /// <summary>The blocks from <paramref name="firstLayer"/> on, ending at the <c>final_resid</c> hook.</summary>
    Tensor Trunk(Tensor x, int firstLayer, bool startAtMlp, Hooks? hooks)
    {
        for (int i = firstLayer; i < Config.NLayer; i++)
            x = transformer.h[i].forward(x, hooks, skipAttention: startAtMlp && i == firstLayer);
        return Hooks.Run(hooks, HookPoints.FinalResid, x);
    }

    /// <summary>final norm, unembedding, logit bias and bigram row: (B, T, d_model) -> (B, T, vocab).</summary>
    Tensor Head(Tensor x, Tensor tokens)
    {
        x = transformer.ln_f.forward(x);
        Tensor logits = KeptScalars.Add(matmul.Linear(lm_head, x), final_logits_bias); // (B, T, vocab)
        if (bigram_table is not null)
            logits = KeptScalars.Add(logits, bigram_table.index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1)); // (B, T, vocab)
        return logits;
    }

    /// <summary>
    /// Every parameter with its role in weight-sparse training, in state_dict order: which are
    /// sparse matrices (embedding or matrix, with the neuron axis of the min-j rule), which are
    /// biases, which stay dense.
    /// </summary>
    public IReadOnlyList<ModelParameter> DescribeParameters() =>
        named_parameters().Select(p => Describe(p.name, p.parameter)).ToList();

    /// <summary>The parameters weight sparsity applies to (wte, wpe, every c_attn/c_proj/c_fc weight, lm_head).</summary>
    public IReadOnlyList<ModelParameter> SparseMatrices() => DescribeParameters().Where(p => p.IsSparseMatrix).ToList();

    static ModelParameter Describe(string name, Parameter p)
    {
        (ParameterKind kind, NeuronAxis axis) = name switch
        {
            "transformer.wte.weight" or "transformer.wpe.weight" or "lm_head.weight" => (ParameterKind.Embedding, NeuronAxis.None),
            _ when name.EndsWith(".attn.c_attn.weight") || name.EndsWith(".mlp.c_fc.weight") => (ParameterKind.Matrix, NeuronAxis.Rows),
            _ when name.EndsWith(".c_proj.weight") => (ParameterKind.Matrix, NeuronAxis.Columns),
            _ when name.EndsWith(".bias") => (ParameterKind.Bias, NeuronAxis.None),
            _ => (ParameterKind.Dense, NeuronAxis.None), // ln weights, sink and smear logits, bigram table
        };
        return new ModelParameter(name, p, kind, axis);
    }

    /// <summary>
    /// Weights N(0, 0.02), c_proj weights N(0, 0.02 / sqrt(2 * n_layer)), biases 0, norm weights 1,
    /// sink and smear logits 0, bigram table U(0, 1) * 0.02.
    /// </summary>
    void Initialize(Generator? generator)
    {
        double projStd = 0.02 / Math.Sqrt(2.0 * Config.NLayer);
        using var _ = no_grad();
        using Scalar one = 1.0;
        foreach (ModelParameter p in DescribeParameters())
        {
            if (p.Name == "bigram_table") p.Tensor.uniform_(0, 0.02, generator);
            else if (p.Kind == ParameterKind.Bias || p.Name.EndsWith(".sink_logit") || p.Name.EndsWith(".smear_logit")) p.Tensor.zero_();
            else if (p.Kind == ParameterKind.Dense) p.Tensor.fill_(one); // RMSNorm weights
            else p.Tensor.normal_(0, p.Name.EndsWith(".c_proj.weight") ? projStd : 0.02, generator);
        }
    }

    // ---- the pieces, in the order they appear above ----

    sealed class Transformer : nn.Module
    {
        public readonly Embedding wte;
        public readonly Embedding? wpe;
        public readonly ModuleList<Block> h;
        public readonly RmsNorm ln_f;

        public Transformer(ModelConfig c, MatmulSettings matmul) : base(nameof(Transformer))
        {
            wte = nn.Embedding(c.VocabSize, c.DModel);
            register_module("wte", wte);
            if (c.PositionalEmbedding == PositionalEmbedding.Learned)
            {
                wpe = nn.Embedding(c.NCtx, c.DModel);
                register_module("wpe", wpe);
            }
            h = nn.ModuleList(Enumerable.Range(0, c.NLayer).Select(i => new Block(c, i, matmul)).ToArray());
            register_module("h", h);
            ln_f = new RmsNorm(c.DModel, c.NormEps);
            register_module("ln_f", ln_f);
        }
    }

    sealed class Block : nn.Module
    {
        readonly RmsNorm ln_1, ln_2;
        readonly CausalSelfAttention attn;
        readonly Mlp mlp;
        readonly LayerHookNames names;

        public Block(ModelConfig c, int layer, MatmulSettings matmul) : base(nameof(Block))
        {
            names = new LayerHookNames(layer);
            ln_1 = new RmsNorm(c.DModel, c.NormEps);
            attn = new CausalSelfAttention(c, names, matmul);
            ln_2 = new RmsNorm(c.DModel, c.NormEps);
            mlp = new Mlp(c, names, matmul);
            register_module("ln_1", ln_1);
            register_module("attn", attn);
            register_module("ln_2", ln_2);
            register_module("mlp", mlp);
        }

        public Tensor forward(Tensor x, Hooks? hooks, bool skipAttention = false)
        {
            if (!skipAttention)
            {
                x = Hooks.Run(hooks, names[HookPoints.ResidIn], x);
                x = KeptScalars.Add(x, attn.forward(ln_1.forward(x), hooks));
            }
            x = Hooks.Run(hooks, names[HookPoints.ResidMid], x);
            x = KeptScalars.Add(x, mlp.forward(ln_2.forward(x), hooks));
            return x;
        }
    }

    /// <summary>RMSNorm with an elementwise weight and no bias, so a zero residual stays zero.</summary>
    sealed class RmsNorm : nn.Module<Tensor, Tensor>
    {
        readonly double eps;
        readonly Parameter weight;

        public RmsNorm(int width, double eps) : base(nameof(RmsNorm))
        {
            this.eps = eps;
            weight = new Parameter(ones(width));
            register_parameter("weight", weight);
        }

        public override Tensor forward(Tensor x) => x * KeptScalars.Add(x.square().mean([-1], keepdim: true), eps).rsqrt() * weight;
    }

    sealed class CausalSelfAttention : nn.Module
    {
        readonly int nHead, dHead;
        readonly int? kIn, kQ, kK, kV, kOut; // AbsTopK sizes, null = off
        readonly Linear c_attn, c_proj;
        readonly SinkLogits? attn_imp;
        readonly KeySmearing? smear;
        readonly RotaryEmbedding? rotary;
        readonly LayerHookNames names;
        readonly MatmulSettings matmul;

        public CausalSelfAttention(ModelConfig c, LayerHookNames names, MatmulSettings matmul) : base(nameof(CausalSelfAttention))
        {
            (this.names, this.matmul) = (names, matmul);
            (nHead, dHead) = (c.NHead, c.DHead);
            int heads = nHead * dHead;
            var s = c.ActivationSparsity;
            (kIn, kQ, kK, kV, kOut) = (AbsTopK.K(s.AttnIn, c.DModel), AbsTopK.K(s.AttnQ, heads), AbsTopK.K(s.AttnK, heads),
                AbsTopK.K(s.AttnV, heads), AbsTopK.K(s.AttnOut, c.DModel));
            c_attn = nn.Linear(c.DModel, 3 * heads);
            c_proj = nn.Linear(heads, c.DModel);
            if (c.PositionalEmbedding == PositionalEmbedding.Rotary) rotary = new RotaryEmbedding(c.NCtx, c.DHead);
            register_module("c_attn", c_attn);
            register_module("c_proj", c_proj);
            if (c.AttentionSink)
            {
                attn_imp = new SinkLogits(nHead);
                register_module("attn_imp", attn_imp); // the official name of the module that owns sink_logit
            }
            if (c.SmearedKeys)
            {
                smear = new KeySmearing(nHead);
                register_module("smear", smear);
            }
        }

        public Tensor forward(Tensor x, Hooks? hooks)
        {
            long B = x.shape[0], T = x.shape[1];
            x = Hooks.Run(hooks, names[HookPoints.AttnActIn], AbsTopK.Apply(x, kIn));

            Tensor[] qkv = matmul.Linear(c_attn, x).chunk(3, dim: -1); // 3 x (B, T, H*D)
            Tensor q = Hooks.Run(hooks, names[HookPoints.AttnQ], AbsTopK.Apply(qkv[0], kQ));
            Tensor k = Hooks.Run(hooks, names[HookPoints.AttnK], AbsTopK.Apply(qkv[1], kK));
            Tensor v = Hooks.Run(hooks, names[HookPoints.AttnV], AbsTopK.Apply(qkv[2], kV));
            q = q.view(B, T, nHead, dHead).transpose(1, 2); // (B, H, T, D)
            k = k.view(B, T, nHead, dHead).transpose(1, 2); // (B, H, T, D)
            v = v.view(B, T, nHead, dHead).transpose(1, 2); // (B, H, T, D)
            if (smear is not null) k = smear.Apply(k); // after the hook too: nodes stay the keys of their own position
            if (rotary is not null) (q, k) = (rotary.Apply(q), rotary.Apply(k)); // after the hooks: nodes stay unrotated channels

            Tensor y;
            if (attn_imp is null && (hooks is null || !hooks.Has(names[HookPoints.AttnPattern])))
            {
                // Same math as below, fused; scale defaults to 1/sqrt(d_head). Float32 whatever the matmul
                // precision: with 16-wide heads libtorch's CPU flash attention is bound by its exp, and its
                // bf16 form is 1.4-2x slower than fp32 (docs/benchmarks.md, session 19).
                y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true); // (B, H, T, D)
            }
            else
            {
                Tensor scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(dHead); // (B, H, T, T)
                using (Tensor future = ones(T, T, ScalarType.Bool, x.device).triu(1))
                using (Scalar minusInfinity = double.NegativeInfinity)
                    scores = scores.masked_fill(future, minusInfinity);
                Tensor pattern = attn_imp is null ? scores.softmax(-1) : attn_imp.Softmax(scores); // (B, H, T, T)
                pattern = Hooks.Run(hooks, names[HookPoints.AttnPattern], pattern);
                y = pattern.matmul(v); // (B, H, T, D)
            }
            y = y.transpose(1, 2).reshape(B, T, nHead * dHead); // (B, T, H*D), heads side by side
            y = Hooks.Run(hooks, names[HookPoints.AttnY], y);

            Tensor delta = AbsTopK.Apply(matmul.Linear(c_proj, y), kOut);
            return Hooks.Run(hooks, names[HookPoints.AttnResidDelta], delta);
        }
    }

    /// <summary>
    /// Smeared keys: k'_t = (1 - a) k_t + a k_(t-1) per head, a = sigmoid(smear_logit) (init 0, so
    /// a = 1/2), k'_0 = (1 - a) k_0. The key then also says which token came before, which an
    /// induction head matches against the current token.
    /// </summary>
    sealed class KeySmearing : nn.Module
    {
        readonly Parameter smear_logit; // (H)

        public KeySmearing(int nHead) : base(nameof(KeySmearing))
        {
            smear_logit = new Parameter(zeros(nHead));
            register_parameter("smear_logit", smear_logit);
        }

        /// <summary>(B, H, T, D) -> (B, H, T, D).</summary>
        public Tensor Apply(Tensor k)
        {
            long T = k.shape[2];
            Tensor a = smear_logit.sigmoid().view(1, -1, 1, 1).to(k.dtype);
            // The previous position's key, zero before the first token.
            Tensor previous = nn.functional.pad(k.narrow(2, 0, T - 1), [0, 0, 1, 0]);
            return k.lerp(previous, a); // (1 - a) k + a previous, with no scalar temporaries (KeptScalars)
        }
    }

    /// <summary>
    /// Attention sink: one extra always-visible key per head with zero key and zero value, whose
    /// logit is the learnable b. It only adds exp(b) to each softmax denominator.
    /// </summary>
    sealed class SinkLogits : nn.Module
    {
        readonly Parameter sink_logit; // (H)

        public SinkLogits(int nHead) : base(nameof(SinkLogits))
        {
            sink_logit = new Parameter(zeros(nHead));
            register_parameter("sink_logit", sink_logit);
        }

        /// <summary>softmax over [scores, b] with the sink column dropped: (B, H, T, T) -> (B, H, T, T).</summary>
        public Tensor Softmax(Tensor scores)
        {
            long B = scores.shape[0], H = scores.shape[1], T = scores.shape[2];
            Tensor b = sink_logit.view(1, H, 1, 1).expand(B, H, T, 1); // (B, H, T, 1)
            return cat([scores, b], dim: -1).softmax(-1).narrow(-1, 0, T);
        }
    }

    sealed class Mlp : nn.Module
    {
        readonly int? kIn, kNeuron, kOut; // AbsTopK sizes, null = off
        readonly MlpActivation activation;
        readonly Linear c_fc, c_proj;
        readonly LayerHookNames names;
        readonly MatmulSettings matmul;

        public Mlp(ModelConfig c, LayerHookNames names, MatmulSettings matmul) : base(nameof(Mlp))
        {
            (this.names, this.matmul) = (names, matmul);
            activation = c.Activation;
            var s = c.ActivationSparsity;
            (kIn, kNeuron, kOut) = (AbsTopK.K(s.MlpIn, c.DModel), AbsTopK.K(s.MlpNeuron, c.MlpWidth), AbsTopK.K(s.MlpOut, c.DModel));
            c_fc = nn.Linear(c.DModel, c.MlpWidth);
            c_proj = nn.Linear(c.MlpWidth, c.DModel);
            register_module("c_fc", c_fc);
            register_module("c_proj", c_proj);
        }

        public Tensor forward(Tensor x, Hooks? hooks)
        {
            x = Hooks.Run(hooks, names[HookPoints.MlpActIn], AbsTopK.Apply(x, kIn));
            Tensor h = matmul.Linear(c_fc, x); // (B, T, d_mlp)
            h = activation == MlpActivation.Gelu ? nn.functional.gelu(h) : nn.functional.relu(h); // gelu: exact erf form
            h = Hooks.Run(hooks, names[HookPoints.MlpPostAct], AbsTopK.Apply(h, kNeuron));
            Tensor delta = AbsTopK.Apply(matmul.Linear(c_proj, h), kOut);
            return Hooks.Run(hooks, names[HookPoints.MlpResidDelta], delta);
        }
    }
}

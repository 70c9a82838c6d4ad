using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Official;

/// <summary>
/// The release's <c>beeg_config.json</c> (its inference <c>GPTConfig</c>) read into a
/// <see cref="ModelConfig"/> that computes exactly what the release's forward computes, and
/// written back from one (docs/official-models.md, "Config keys"). Keys the release's forward does not
/// read (dropout, flags of its kernels, training-only keys its configs carry) are accepted and
/// listed; features this project does not implement are refused with one line naming the key.
/// </summary>
/// <param name="Model">the model, with the release's RMSNorm epsilon and learned positions</param>
/// <param name="Bias">whether the Linears have biases (without, the imported biases are zeros)</param>
/// <param name="TokenizerName">the release's tokenizer name (<c>tinypython_2k</c>)</param>
/// <param name="IgnoredKeys">keys present but without effect on the forward pass, with their values</param>
public sealed record ReleaseConfig(
    ModelConfig Model,
    bool Bias,
    string TokenizerName,
    IReadOnlyList<string> IgnoredKeys)
{
    public const string FileName = "beeg_config.json";

    /// <summary><c>nn.RMSNorm</c>'s epsilon when none is given: float32 machine epsilon (2^-23).</summary>
    public const double RmsNormEps = 1.1920928955078125e-07;

    /// <summary>The AbsTopK locations the release names, in the order its configs list them.</summary>
    static readonly string[] Locations = ["attn_in", "attn_out", "mlp_in", "mlp_out", "attn_q", "attn_k", "attn_v", "mlp_neuron"];

    /// <summary>
    /// Fields of the release's GPTConfig with no effect on inference (whether the bigram table is
    /// a parameter or a buffer matters only to training).
    /// </summary>
    static readonly string[] InertFields = ["dropout", "ln_bias", "debug_nans", "grad_checkpointing", "enable_sparse_kernels", "flash",
        "dropout_cat_pos_emb", "sinusoidal_cat_pos_emb", "learnable_bigram_table"];

    /// <summary>Keys released configs carry that the inference GPTConfig does not declare (its loader drops or maps them).</summary>
    static readonly string[] ExtraKeys = ["bigram_table_rank", "n_embd", "pfrac", "expansion_factor", "expansion_factor_mlp", "debug_exact_topk",
        "sparse_matmul_impl", "use_tied_aux_matrix", "n_mlp"];

    /// <summary>Reads and checks a beeg_config.json; every problem is one line naming the file and the key.</summary>
    public static ReleaseConfig Read(string path)
    {
        if (!File.Exists(path)) throw new SparseCircuitsException($"file not found: {path}");
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new SparseCircuitsException($"{path} must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new SparseCircuitsException($"{path} is not valid JSON: {e.Message}");
        }
        return new Reader(json, path).Read();
    }

    /// <summary>
    /// The beeg_config.json of <paramref name="model"/>: every field the release's <c>load_model</c>
    /// passes to GPTConfig, plus <c>bigram_table_rank</c> (which it removes first and requires),
    /// nothing else (an unknown key makes its loader fail). A model the release's forward would
    /// compute differently is refused; the notes say what the release cannot carry.
    /// </summary>
    public static JsonObject Write(ModelConfig model, string tokenizerName, out IReadOnlyList<string> notes)
    {
        model.Validate();
        if (model.PositionalEmbedding == PositionalEmbedding.Rotary)
            throw new SparseCircuitsException("the release has no rotary positions (only none or learned wpe); this model uses positional_embedding rotary");
        if (model.SmearedKeys)
            throw new SparseCircuitsException("the release has no smeared keys; this model uses smeared_keys");
        var fractions = Fractions(model.ActivationSparsity).Where(f => f.Fraction is not null).ToList();
        if (fractions.Select(f => f.Fraction).Distinct().Count() > 1)
            throw new SparseCircuitsException("the release has one afrac for all AbsTopK locations; this model uses " +
                string.Join(", ", fractions.Select(f => $"{f.Fraction?.ToString(CultureInfo.InvariantCulture)} at {f.Location}")));
        double? afrac = fractions.Count == 0 ? null : fractions[0].Fraction;
        if (model.DModel % model.NHead != 0)
            throw new SparseCircuitsException($"the release requires d_model to be a multiple of n_head; this model has d_model {model.DModel}, n_head {model.NHead}");
        foreach (var (location, fraction) in fractions) CheckTopK(model, location, fraction!.Value);

        var written = new List<string>();
        if (model.NormEps != RmsNormEps)
            written.Add($"the release's RMSNorm uses epsilon {RmsNormEps:R}, this model {model.NormEps:R}; its logits there differ slightly from ours");
        if (model.PositionalEmbedding == PositionalEmbedding.None)
            written.Add("the release always adds wpe; it is written as zeros (no change to the logits)");
        notes = written;
        return new JsonObject
        {
            ["block_size"] = model.NCtx,
            ["vocab_size"] = model.VocabSize,
            ["n_layer"] = model.NLayer,
            ["n_head"] = model.NHead,
            ["d_head"] = model.DHead,
            ["d_model"] = model.DModel,
            ["dropout"] = 0.0,
            ["bias"] = true,
            ["ln_bias"] = false,
            ["rms_norm"] = true,
            ["residual_activation_type"] = "identity",
            ["activation_type"] = model.Activation == MlpActivation.Gelu ? "gelu" : "relu",
            ["afrac"] = afrac,
            ["afrac_loctypes"] = string.Join(",", fractions.Select(f => f.Location)),
            ["debug_nans"] = false,
            ["tied_unembed"] = false,
            ["tokenizer_name"] = tokenizerName,
            ["grad_checkpointing"] = false,
            ["d_mlp"] = model.MlpWidth,
            ["enable_bigram_table"] = model.BigramTable,
            ["learnable_bigram_table"] = model.BigramTable,
            ["d_pos_emb"] = null,
            ["dropout_cat_pos_emb"] = false,
            ["sinusoidal_cat_pos_emb"] = false,
            ["enable_sparse_kernels"] = false,
            ["flash"] = true,
            ["sink"] = model.AttentionSink,
            ["bigram_table_rank"] = null,
        };
    }

    static IEnumerable<(string Location, double? Fraction)> Fractions(ActivationSparsity s) =>
    [
        ("attn_in", s.AttnIn), ("attn_out", s.AttnOut), ("mlp_in", s.MlpIn), ("mlp_out", s.MlpOut),
        ("attn_q", s.AttnQ), ("attn_k", s.AttnK), ("attn_v", s.AttnV), ("mlp_neuron", s.MlpNeuron),
    ];

    static int Width(ModelConfig model, string location) => location switch
    {
        "attn_q" or "attn_k" or "attn_v" => model.NHead * model.DHead,
        "mlp_neuron" => model.MlpWidth,
        _ => model.DModel,
    };

    /// <summary>
    /// The release keeps <c>int(afrac * width)</c> entries; <see cref="AbsTopK.K"/> must give the
    /// same k at every location or the two forwards differ (they agree except where afrac * width
    /// lands a hair below a whole number, or below 1).
    /// </summary>
    static void CheckTopK(ModelConfig model, string location, double afrac)
    {
        int width = Width(model, location);
        long release = (long)Math.Truncate(afrac * width);
        if (release == 0)
            throw new SparseCircuitsException($"afrac {afrac} keeps int({afrac} * {width}) = 0 entries at {location}: the release zeroes that activation, which this tool does not model");
        int ours = AbsTopK.K(afrac, width) ?? width;
        if (ours != Math.Min(release, width))
            throw new SparseCircuitsException($"afrac {afrac} at {location} ({width} wide) keeps {release} entries in the release but {ours} here; not supported");
    }

    /// <summary>Reads one beeg_config.json, collecting the keys it ignores.</summary>
    sealed class Reader(JsonObject json, string path)
    {
        readonly List<string> _ignored = [];

        public ReleaseConfig Read()
        {
            foreach (var (key, _) in json)
                if (!Known(key)) throw new SparseCircuitsException($"{path}: unknown key '{key}' (not a field of the release's GPTConfig nor a key its configs are known to carry)");

            // Features we do not implement, refused by name before anything else.
            if (Int("d_pos_emb", null) is int dPos) throw Unsupported("d_pos_emb", $"{dPos} (positions concatenated to the residual stream, cat_pos_emb)");
            if (!Bool("rms_norm", false)) throw Unsupported("rms_norm", "false (LayerNorm instead of RMSNorm; the release's default when the key is absent)");
            if (Text("residual_activation_type", "identity") is var residual && residual != "identity")
                throw Unsupported("residual_activation_type", $"'{residual}' (an activation on the residual stream)");
            if (Bool("tied_unembed", true)) throw Unsupported("tied_unembed", "true (wte and lm_head shared; the release's default when the key is absent)");
            if (Bool("use_tied_aux_matrix", false)) throw Unsupported("use_tied_aux_matrix", "true");

            int nLayer = Required("n_layer"), nHead = Required("n_head"), dModel = Required("d_model");
            int vocab = Required("vocab_size"), block = Required("block_size");
            if (dModel % nHead != 0) throw Bad("n_head", $"must divide d_model {dModel} (the release asserts it); got {nHead}");
            int dHead = Int("d_head", null) ?? dModel / nHead;
            int? dMlp = Int("d_mlp", null), nMlp = Int("n_mlp", null);
            if (dMlp is int a && nMlp is int b && a != b) throw Bad("n_mlp", $"means d_mlp and must agree with d_mlp {a}; got {b}");
            int mlp = dMlp ?? nMlp ?? 4 * dModel;
            Positive("d_head", dHead);
            Positive("d_mlp", mlp);

            MlpActivation activation = Text("activation_type", "gelu") switch
            {
                "gelu" => MlpActivation.Gelu,
                "relu" => MlpActivation.Relu,
                var other => throw Bad("activation_type", $"must be gelu or relu; got '{other}'"),
            };
            var model = new ModelConfig
            {
                VocabSize = vocab,
                NLayer = nLayer,
                DModel = dModel,
                DHead = dHead,
                DAttn = nHead * dHead == dModel ? null : nHead * dHead,
                DMlp = mlp,
                NCtx = block,
                NormEps = RmsNormEps,
                Activation = activation,
                PositionalEmbedding = PositionalEmbedding.Learned,
                AttentionSink = Bool("sink", false),
                BigramTable = Bool("enable_bigram_table", false),
            };
            model = model with { ActivationSparsity = Sparsity(model) };
            Bool("learnable_bigram_table", false); // type-checked; its value only matters to training
            string tokenizer = Text("tokenizer_name", "tinypython_2k");
            bool bias = Bool("bias", true);

            foreach (string key in InertFields.Concat(ExtraKeys).Where(json.ContainsKey).Where(k => k != "n_mlp" && k != "use_tied_aux_matrix"))
                _ignored.Add($"{key}={json[key]?.ToJsonString() ?? "null"}");
            try { model.Validate(); }
            catch (SparseCircuitsException e) { throw new SparseCircuitsException($"{path}: {e.Message}"); }
            return new ReleaseConfig(model, bias, tokenizer, _ignored);
        }

        ActivationSparsity Sparsity(ModelConfig model)
        {
            double? afrac = Number("afrac");
            string[] listed = Text("afrac_loctypes", "attn_in,attn_out,mlp_in,mlp_out").Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (afrac is null) return ActivationSparsity.Off;
            if (!(afrac > 0 && afrac <= 1)) throw Bad("afrac", $"must be in (0, 1] or null; got {afrac}");
            foreach (string location in listed)
            {
                if (location is "resid_post_attn" or "resid_post_mlp")
                    throw Unsupported("afrac_loctypes", $"'{location}' (AbsTopK on the residual stream)");
                if (!Locations.Contains(location))
                    throw Bad("afrac_loctypes", $"names '{location}', which is none of {string.Join(", ", Locations)}");
                try { CheckTopK(model, location, afrac.Value); }
                catch (SparseCircuitsException e) { throw new SparseCircuitsException($"{path}: {e.Message}"); }
            }
            double? At(string location) => listed.Contains(location) ? afrac : null;
            return new ActivationSparsity
            {
                AttnIn = At("attn_in"), AttnQ = At("attn_q"), AttnK = At("attn_k"), AttnV = At("attn_v"), AttnOut = At("attn_out"),
                MlpIn = At("mlp_in"), MlpNeuron = At("mlp_neuron"), MlpOut = At("mlp_out"),
            };
        }

        static bool Known(string key) => key is "block_size" or "vocab_size" or "n_layer" or "n_head" or "d_head" or "d_model" or "bias"
            or "rms_norm" or "residual_activation_type" or "activation_type" or "afrac" or "afrac_loctypes" or "tied_unembed"
            or "tokenizer_name" or "d_mlp" or "enable_bigram_table" or "d_pos_emb" or "sink"
            || InertFields.Contains(key) || ExtraKeys.Contains(key);

        int Required(string key)
        {
            if (!json.ContainsKey(key)) throw new SparseCircuitsException($"{path}: {key} is missing");
            int value = Int(key, null) ?? throw Bad(key, "must be a whole number; got null");
            Positive(key, value);
            return value;
        }

        void Positive(string key, int value)
        {
            if (value < 1) throw Bad(key, $"must be >= 1; got {value}");
        }

        int? Int(string key, int? fallback)
        {
            if (!json.TryGetPropertyValue(key, out JsonNode? node)) return fallback;
            if (node is null) return null;
            if (node is JsonValue v && v.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i)) return i;
            throw Bad(key, $"must be a whole number; got {node.ToJsonString()}");
        }

        double? Number(string key)
        {
            if (!json.TryGetPropertyValue(key, out JsonNode? node) || node is null) return null;
            if (node is JsonValue v && v.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number) return e.GetDouble();
            throw Bad(key, $"must be a number or null; got {node.ToJsonString()}");
        }

        bool Bool(string key, bool fallback)
        {
            if (!json.TryGetPropertyValue(key, out JsonNode? node)) return fallback;
            if (node is JsonValue v && v.TryGetValue(out JsonElement e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False) return e.GetBoolean();
            throw Bad(key, $"must be true or false; got {node?.ToJsonString() ?? "null"}");
        }

        string Text(string key, string fallback)
        {
            if (!json.TryGetPropertyValue(key, out JsonNode? node)) return fallback;
            if (node is JsonValue v && v.TryGetValue(out string? s)) return s;
            throw Bad(key, $"must be text; got {node?.ToJsonString() ?? "null"}");
        }

        SparseCircuitsException Bad(string key, string what) => new($"{path}: {key} {what}");

        SparseCircuitsException Unsupported(string key, string what) =>
            new($"{path}: {key} = {what} is a feature of the release this tool does not implement");
    }
}

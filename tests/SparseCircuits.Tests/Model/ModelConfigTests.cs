using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Model;
using Xunit;

namespace SparseCircuits.Tests.Model;

public sealed class ModelConfigTests
{
    static readonly ModelConfig Valid = ModelPresets.Tiny.For(vocabSize: 50);

    public static TheoryData<string, ModelConfig> BadConfigs() => new()
    {
        { "vocab_size", Valid with { VocabSize = 0 } },
        { "n_layer", Valid with { NLayer = 0 } },
        { "d_model", Valid with { DModel = -32 } },
        { "d_head", Valid with { DHead = 0 } },
        { "d_model must be a multiple of d_head", Valid with { DModel = 40 } },
        { "d_mlp", Valid with { DMlp = 0 } },
        { "d_attn must be a multiple of d_head", Valid with { DAttn = 40 } },
        { "d_attn", Valid with { DAttn = 0 } },
        { "n_ctx", Valid with { NCtx = 0 } },
        { "norm_eps", Valid with { NormEps = 0 } },
        { "activation", Valid with { Activation = (MlpActivation)7 } },
        { "positional_embedding", Valid with { PositionalEmbedding = (PositionalEmbedding)7 } },
        { "rotary needs an even d_head", Valid with { PositionalEmbedding = PositionalEmbedding.Rotary, DHead = 5, DModel = 40 } },
        { "activation_sparsity.attn_in", Valid with { ActivationSparsity = new ActivationSparsity { AttnIn = 0 } } },
        { "activation_sparsity.attn_q", Valid with { ActivationSparsity = new ActivationSparsity { AttnQ = 1.5 } } },
        { "activation_sparsity.mlp_neuron", Valid with { ActivationSparsity = new ActivationSparsity { MlpNeuron = -0.1 } } },
        { "activation_sparsity.mlp_out", Valid with { ActivationSparsity = new ActivationSparsity { MlpOut = double.NaN } } },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Validation_names_the_field_and_range(string expected, ModelConfig config)
    {
        var e = Assert.Throws<SparseCircuitsException>(() => config.Validate());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Fraction_error_states_the_allowed_range()
    {
        var e = Assert.Throws<SparseCircuitsException>(() => (Valid with { ActivationSparsity = new ActivationSparsity { AttnK = 2 } }).Validate());
        Assert.Contains("(0, 1]", e.Message);
    }

    [Fact]
    public void Defaults_are_the_papers()
    {
        var c = new ModelConfig { VocabSize = 2048 }.Validate();
        Assert.Equal((8, 256, 16, 16, 1024, 256), (c.NLayer, c.DModel, c.DHead, c.NHead, c.MlpWidth, c.NCtx));
        Assert.Equal(MlpActivation.Gelu, c.Activation);
        Assert.Equal(PositionalEmbedding.None, c.PositionalEmbedding);
        Assert.False(c.AttentionSink);
        Assert.False(c.BigramTable);
        Assert.Equal(ActivationSparsity.Released, c.ActivationSparsity);
        Assert.Null(c.ActivationSparsity.AttnQ);
        Assert.Equal(0.125, c.ActivationSparsity.MlpNeuron);
    }

    [Fact]
    public void Json_round_trip_is_snake_case_and_lossless()
    {
        var c = Valid with
        {
            DMlp = 100, NormEps = 1e-6, Activation = MlpActivation.Relu, PositionalEmbedding = PositionalEmbedding.Learned,
            AttentionSink = true, BigramTable = true, ActivationSparsity = ActivationSparsity.PaperText with { AttnK = null },
        };
        string json = Json.Serialize(c);
        foreach (string key in new[] { "\"vocab_size\"", "\"n_layer\"", "\"d_model\"", "\"d_head\"", "\"d_mlp\"", "\"n_ctx\"", "\"norm_eps\"",
                     "\"positional_embedding\": \"learned\"", "\"activation\": \"relu\"", "\"attention_sink\"", "\"bigram_table\"",
                     "\"activation_sparsity\"", "\"attn_in\"", "\"mlp_neuron\"" })
            Assert.Contains(key, json);
        Assert.DoesNotContain("n_head", json); // derived, not stored
        var back = JsonSerializer.Deserialize<ModelConfig>(json, Json.Options);
        Assert.Equal(c, back);
    }

    [Fact]
    public void Attention_width_is_left_out_of_files_when_null_and_read_when_set()
    {
        // Configs written before d_attn existed serialise (and hash) exactly as before.
        Assert.DoesNotContain("d_attn", Json.Serialize(new SparseCircuits.Training.TrainingConfig()));
        var wide = ConfigLoader.Load(new SparseCircuits.Training.TrainingConfig(), [], ["model.d_attn=512"]);
        Assert.Equal(512, wide.Model.DAttn);
        Assert.Equal(32, wide.Model.NHead); // d_attn / d_head
        Assert.Contains("\"d_attn\": 512", Json.Serialize(wide));
        var back = ConfigLoader.Load(new SparseCircuits.Training.TrainingConfig(), [System.Text.Json.Nodes.JsonNode.Parse(Json.Serialize(wide))!.AsObject()], []);
        Assert.Equal(wide, back);
    }

    [Fact]
    public void Missing_json_fields_take_defaults()
    {
        var c = JsonSerializer.Deserialize<ModelConfig>("{\"vocab_size\": 10, \"d_model\": 64}", Json.Options)!;
        Assert.Equal(new ModelConfig { VocabSize = 10, DModel = 64 }, c);
        Assert.Equal(256, c.MlpWidth);
    }

    [Fact]
    public void Presets_validate_and_are_named_by_purpose()
    {
        Assert.Equal(new[] { "tiny", "small", "base", "paper-1x", "paper-2x", "paper-4x", "paper-8x", "paper-16x" }, ModelPresets.Names);
        foreach (ModelPreset p in ModelPresets.All)
        {
            ModelConfig c = ModelPresets.Get(p.Name, 2048);
            Assert.Equal(2048, c.VocabSize);
            Assert.Equal(16, c.DHead);
        }
        Assert.Equal(256 * 16, ModelPresets.Get("paper-16x", 2048).DModel);
        Assert.All(ModelPresets.All.Where(p => p.Name.StartsWith("paper")), p => Assert.Equal(8, p.Config.NLayer));
        // Rotary positions where they were measured to help (small); the paper's none elsewhere.
        Assert.Equal(PositionalEmbedding.Rotary, ModelPresets.Get("small", 2048).PositionalEmbedding);
        Assert.All(ModelPresets.All.Where(p => p.Name != "small"), p => Assert.Equal(PositionalEmbedding.None, p.Config.PositionalEmbedding));
        var e = Assert.Throws<SparseCircuitsException>(() => ModelPresets.Get("huge", 10));
        Assert.Contains("tiny, small, base", e.Message);
        Assert.Throws<SparseCircuitsException>(() => ModelPresets.Tiny.For(0));
    }
}

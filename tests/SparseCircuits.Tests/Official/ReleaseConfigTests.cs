using System.Text.Json.Nodes;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Official;
using SparseCircuits.Tests.Support;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Official;

/// <summary>The release's beeg_config.json read into our model config, and written from one.</summary>
public sealed class ReleaseConfigTests
{
    static JsonObject FixtureConfig() => JsonNode.Parse(File.ReadAllText(Path.Combine(ReleaseFixtures.TinyModel, "beeg_config.json")))!.AsObject();

    /// <summary>The fixture's config with <paramref name="edit"/> applied, read back.</summary>
    static ReleaseConfig ReadEdited(TempDir dir, Action<JsonObject> edit)
    {
        JsonObject json = FixtureConfig();
        edit(json);
        return ReleaseConfig.Read(dir.Write("beeg_config.json", json.ToJsonString()));
    }

    [Fact]
    public void The_fixture_config_gives_the_release_semantics_and_lists_the_keys_without_effect()
    {
        var config = ReleaseConfig.Read(Path.Combine(ReleaseFixtures.TinyModel, "beeg_config.json"));
        ModelConfig m = config.Model;

        Assert.Equal((2, 64, 4, 16, 256, 64, 2048), (m.NLayer, m.DModel, m.NHead, m.DHead, m.MlpWidth, m.NCtx, m.VocabSize));
        Assert.Equal(Math.Pow(2, -23), m.NormEps); // float32 machine epsilon, nn.RMSNorm's default
        Assert.Equal(PositionalEmbedding.Learned, m.PositionalEmbedding); // the release always adds wpe
        Assert.True(m.AttentionSink);
        Assert.True(m.BigramTable);
        Assert.Equal(ActivationSparsity.Uniform(0.25), m.ActivationSparsity);
        Assert.True(config.Bias);
        Assert.Equal("tinypython_2k", config.TokenizerName);
        foreach (string key in new[] { "bigram_table_rank=null", "n_embd=64", "pfrac=0.25", "expansion_factor=1", "expansion_factor_mlp=1",
                     "debug_exact_topk=false", "sparse_matmul_impl=null", "dropout=0.0" })
            Assert.Contains(key, config.IgnoredKeys);
    }

    [Fact]
    public void Afrac_applies_only_at_the_listed_locations()
    {
        using var dir = new TempDir();
        var config = ReadEdited(dir, j => { j["afrac"] = 0.125; j["afrac_loctypes"] = "attn_in,mlp_neuron"; });
        Assert.Equal(new ActivationSparsity { AttnIn = 0.125, MlpNeuron = 0.125 }, config.Model.ActivationSparsity);

        config = ReadEdited(dir, j => j["afrac"] = null);
        Assert.Equal(ActivationSparsity.Off, config.Model.ActivationSparsity);

        // Without the key the release's default list: attn_in, attn_out, mlp_in, mlp_out.
        config = ReadEdited(dir, j => j.Remove("afrac_loctypes"));
        Assert.Equal(new ActivationSparsity { AttnIn = 0.25, AttnOut = 0.25, MlpIn = 0.25, MlpOut = 0.25 }, config.Model.ActivationSparsity);
    }

    [Fact]
    public void N_mlp_means_d_mlp_and_heads_may_be_wider_than_d_model()
    {
        using var dir = new TempDir();
        var config = ReadEdited(dir, j => { j.Remove("d_mlp"); j["n_mlp"] = 96; j["d_head"] = 32; });
        Assert.Equal(96, config.Model.MlpWidth);
        Assert.Equal(4, config.Model.NHead);
        Assert.Equal(32, config.Model.DHead); // 4 heads of 32 read a 64-wide residual

        using var _ = NewDisposeScope();
        using var model = new SparseGpt(config.Model);
        Assert.Equal(new long[] { 3 * 128, 64 }, model.state_dict()["transformer.h.0.attn.c_attn.weight"].shape);
        Assert.Equal(new long[] { 64, 128 }, model.state_dict()["transformer.h.0.attn.c_proj.weight"].shape);
        Assert.Equal(new long[] { 2, 5, 2048 }, model.forward(zeros(2, 5, dtype: ScalarType.Int64)).shape);
    }

    [Theory]
    [InlineData("d_pos_emb", "16", "d_pos_emb")]
    [InlineData("rms_norm", "false", "LayerNorm")]
    [InlineData("residual_activation_type", "\"relu\"", "residual_activation_type")]
    [InlineData("tied_unembed", "true", "tied_unembed")]
    [InlineData("afrac_loctypes", "\"attn_in,resid_post_mlp\"", "resid_post_mlp")]
    [InlineData("use_tied_aux_matrix", "true", "use_tied_aux_matrix")]
    public void Unsupported_features_are_refused_with_one_line_naming_the_key(string key, string value, string named)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SparseCircuitsException>(() => ReadEdited(dir, j => j[key] = JsonNode.Parse(value)));
        Assert.Contains(named, e.Message);
        Assert.Contains("does not implement", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Without_tied_unembed_the_release_ties_so_the_import_refuses()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SparseCircuitsException>(() => ReadEdited(dir, j => j.Remove("tied_unembed")));
        Assert.Contains("tied_unembed", e.Message);
    }

    [Theory]
    [InlineData("n_layer", "n_layer is missing")]
    [InlineData("vocab_size", "vocab_size is missing")]
    [InlineData("n_head", "n_head is missing")]
    public void A_missing_required_field_is_named(string key, string message)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SparseCircuitsException>(() => ReadEdited(dir, j => j.Remove(key)));
        Assert.Contains(message, e.Message);
        Assert.Contains("beeg_config.json", e.Message);
    }

    [Theory]
    [InlineData("surprise", "1", "unknown key 'surprise'")]
    [InlineData("n_layer", "2.5", "n_layer must be a whole number")]
    [InlineData("sink", "\"yes\"", "sink must be true or false")]
    [InlineData("activation_type", "\"swish\"", "gelu or relu")]
    [InlineData("n_head", "3", "n_head must divide d_model 64")]
    [InlineData("afrac_loctypes", "\"attn_in,attn_nowhere\"", "attn_nowhere")]
    [InlineData("afrac", "1.5", "afrac must be in (0, 1]")]
    [InlineData("n_mlp", "128", "must agree with d_mlp 256")]
    public void Bad_values_are_one_line_errors_naming_the_key(string key, string value, string message)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SparseCircuitsException>(() => ReadEdited(dir, j => j[key] = JsonNode.Parse(value)));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_fraction_whose_k_the_release_rounds_differently_is_refused()
    {
        using var dir = new TempDir();
        // 0.29 * 100 is 28.999... in doubles: the release keeps int() = 28 entries, AbsTopK.K 29.
        var e = Assert.Throws<SparseCircuitsException>(() => ReadEdited(dir, j => { j["d_model"] = 100; j["n_head"] = 4; j["d_head"] = 25; j["afrac"] = 0.29; }));
        Assert.Contains("keeps 28 entries in the release but 29 here", e.Message);

        // A fraction that keeps no entry: the release zeroes the activation.
        e = Assert.Throws<SparseCircuitsException>(() => ReadEdited(dir, j => j["afrac"] = 0.01));
        Assert.Contains("= 0 entries", e.Message);
    }

    [Fact]
    public void Writing_then_reading_gives_the_same_model_config()
    {
        ModelConfig model = ReleaseConfig.Read(Path.Combine(ReleaseFixtures.TinyModel, "beeg_config.json")).Model;
        using var dir = new TempDir();
        JsonObject written = ReleaseConfig.Write(model, "tinypython_2k", out var notes);

        Assert.Empty(notes);
        Assert.Null(written["bigram_table_rank"]); // the release's loader removes this key and fails without it
        Assert.True(written.ContainsKey("bigram_table_rank"));
        Assert.Equal(model, ReleaseConfig.Read(dir.Write("beeg_config.json", written.ToJsonString())).Model);
    }

    [Fact]
    public void Our_models_write_one_afrac_and_say_what_the_release_cannot_carry()
    {
        ModelConfig ours = ModelPresets.Tiny.For(300); // released fractions: 1/8 at six locations, q and k off
        JsonObject written = ReleaseConfig.Write(ours, "custom", out var notes);

        Assert.Equal(0.125, written["afrac"]!.GetValue<double>());
        Assert.Equal("attn_in,attn_out,mlp_in,mlp_out,attn_v,mlp_neuron", written["afrac_loctypes"]!.GetValue<string>());
        Assert.Contains(notes, n => n.Contains("epsilon"));
        Assert.Contains(notes, n => n.Contains("wpe"));

        var e = Assert.Throws<SparseCircuitsException>(() => ReleaseConfig.Write(ours with { ActivationSparsity = ours.ActivationSparsity with { AttnQ = 0.25 } }, "custom", out _));
        Assert.Contains("one afrac", e.Message);
        e = Assert.Throws<SparseCircuitsException>(() => ReleaseConfig.Write(ours with { PositionalEmbedding = PositionalEmbedding.Rotary }, "custom", out _));
        Assert.Contains("rotary", e.Message);
        e = Assert.Throws<SparseCircuitsException>(() => ReleaseConfig.Write(ours with { SmearedKeys = true }, "custom", out _));
        Assert.Contains("smeared keys", e.Message);
    }
}

using SparseCircuits.Core;
using SparseCircuits.Model;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

public sealed class SparseGptTests
{
    public SparseGptTests() => TorchRuntime.EnsureInitialized();

    static string[] ExpectedNames(ModelConfig c)
    {
        // A module's own parameters come before its children's, as in PyTorch.
        var names = new List<string>();
        if (c.BigramTable) names.Add("bigram_table");
        names.Add("transformer.wte.weight");
        if (c.PositionalEmbedding == PositionalEmbedding.Learned) names.Add("transformer.wpe.weight");
        for (int i = 0; i < c.NLayer; i++)
        {
            string h = $"transformer.h.{i}.";
            names.AddRange([h + "ln_1.weight", h + "attn.c_attn.weight", h + "attn.c_attn.bias", h + "attn.c_proj.weight", h + "attn.c_proj.bias"]);
            if (c.AttentionSink) names.Add(h + "attn.attn_imp.sink_logit");
            if (c.SmearedKeys) names.Add(h + "attn.smear.smear_logit");
            names.AddRange([h + "ln_2.weight", h + "mlp.c_fc.weight", h + "mlp.c_fc.bias", h + "mlp.c_proj.weight", h + "mlp.c_proj.bias"]);
        }
        names.AddRange(["transformer.ln_f.weight", "lm_head.weight"]);
        return [.. names];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parameter_names_are_the_official_ones(bool allOptions)
    {
        ModelConfig c = allOptions ? TestModels.AllOptions() : TestModels.Tiny();
        using var model = new SparseGpt(c);
        Assert.Equal(ExpectedNames(c), model.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(ExpectedNames(c).Append("final_logits_bias").Order(), model.state_dict().Keys.Order());
        Assert.Equal(ExpectedNames(c), model.DescribeParameters().Select(p => p.Name).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parameter_shapes_and_counts(bool allOptions)
    {
        ModelConfig c = allOptions ? TestModels.AllOptions() : TestModels.Tiny();
        using var model = new SparseGpt(c);
        var p = model.state_dict();
        int d = c.DModel, v = c.VocabSize, mlp = c.MlpWidth;
        Assert.Equal(new long[] { v, d }, p["transformer.wte.weight"].shape);
        Assert.Equal(new long[] { 3 * d, d }, p["transformer.h.1.attn.c_attn.weight"].shape); // (out, in) like nn.Linear
        Assert.Equal(new long[] { d, d }, p["transformer.h.1.attn.c_proj.weight"].shape);
        Assert.Equal(new long[] { mlp, d }, p["transformer.h.1.mlp.c_fc.weight"].shape);
        Assert.Equal(new long[] { d, mlp }, p["transformer.h.1.mlp.c_proj.weight"].shape);
        Assert.Equal(new long[] { v, d }, p["lm_head.weight"].shape);
        Assert.Equal(new long[] { v }, p["final_logits_bias"].shape);
        if (allOptions)
        {
            Assert.Equal(new long[] { c.NCtx, d }, p["transformer.wpe.weight"].shape);
            Assert.Equal(new long[] { c.NHead }, p["transformer.h.0.attn.attn_imp.sink_logit"].shape);
            Assert.Equal(new long[] { v, v }, p["bigram_table"].shape);
        }
        long count = model.parameters().Sum(t => t.numel());
        Assert.Equal(c.ParameterCount(), count);
        // 2 layers, d 32, vocab 13: 2 * (32 + 32*96 + 96 + 32*32 + 32 + 32 + 32*128 + 128 + 128*32 + 32) + 2 * 13*32 + 32
        if (!allOptions) Assert.Equal(2 * 12_640 + 832 + 32, count);
    }

    [Fact]
    public void Parameters_are_classified_for_weight_sparsity()
    {
        using var model = new SparseGpt(TestModels.AllOptions());
        var roles = model.DescribeParameters().ToDictionary(p => p.Name, p => (p.Kind, p.NeuronAxis));
        Assert.Equal((ParameterKind.Embedding, NeuronAxis.None), roles["transformer.wte.weight"]);
        Assert.Equal((ParameterKind.Embedding, NeuronAxis.None), roles["transformer.wpe.weight"]);
        Assert.Equal((ParameterKind.Embedding, NeuronAxis.None), roles["lm_head.weight"]);
        Assert.Equal((ParameterKind.Matrix, NeuronAxis.Rows), roles["transformer.h.0.attn.c_attn.weight"]);
        Assert.Equal((ParameterKind.Matrix, NeuronAxis.Rows), roles["transformer.h.1.mlp.c_fc.weight"]);
        Assert.Equal((ParameterKind.Matrix, NeuronAxis.Columns), roles["transformer.h.0.attn.c_proj.weight"]);
        Assert.Equal((ParameterKind.Matrix, NeuronAxis.Columns), roles["transformer.h.1.mlp.c_proj.weight"]);
        Assert.Equal((ParameterKind.Bias, NeuronAxis.None), roles["transformer.h.0.mlp.c_fc.bias"]);
        Assert.Equal((ParameterKind.Dense, NeuronAxis.None), roles["transformer.h.0.ln_1.weight"]);
        Assert.Equal((ParameterKind.Dense, NeuronAxis.None), roles["transformer.ln_f.weight"]);
        Assert.Equal((ParameterKind.Dense, NeuronAxis.None), roles["transformer.h.1.attn.attn_imp.sink_logit"]);
        Assert.Equal((ParameterKind.Dense, NeuronAxis.None), roles["bigram_table"]);
        Assert.Equal(3 + 4 * 2, model.SparseMatrices().Count);
    }

    [Fact]
    public void Initialisation_follows_the_paper()
    {
        var c = TestModels.AllOptions() with { DModel = 64, NLayer = 8, VocabSize = 200 };
        using var model = new SparseGpt(c, new Generator(11, CPU));
        var p = model.state_dict();
        double Std(string name) => p[name].std().item<float>();
        Assert.InRange(Std("transformer.wte.weight"), 0.019, 0.021);
        Assert.InRange(Std("transformer.h.3.mlp.c_fc.weight"), 0.019, 0.021);
        Assert.InRange(Std("transformer.h.3.mlp.c_proj.weight"), 0.95 * 0.005, 1.05 * 0.005); // 0.02 / sqrt(2 * 8)
        Assert.InRange(Std("transformer.h.3.attn.c_proj.weight"), 0.9 * 0.005, 1.1 * 0.005);
        Assert.Equal(0, p["transformer.h.2.attn.c_attn.bias"].abs().max().item<float>());
        Assert.Equal(0, p["transformer.h.2.attn.attn_imp.sink_logit"].abs().max().item<float>());
        Assert.Equal(0, p["final_logits_bias"].abs().max().item<float>());
        Assert.True(p["transformer.h.2.ln_2.weight"].eq(1).all().item<bool>());
        Assert.InRange(p["bigram_table"].min().item<float>(), 0, 0.0005);
        Assert.InRange(p["bigram_table"].max().item<float>(), 0.0195, 0.02);
        using var again = new SparseGpt(c, new Generator(11, CPU));
        Assert.True(again.state_dict()["transformer.h.3.mlp.c_fc.weight"].Same(p["transformer.h.3.mlp.c_fc.weight"]));
    }

    [Fact]
    public void Smeared_keys_add_one_logit_per_head_start_at_an_even_mix_and_vanish_at_a_very_negative_logit()
    {
        using var scope = NewDisposeScope();
        ModelConfig plain = TestModels.Tiny() with { PositionalEmbedding = PositionalEmbedding.Rotary };
        ModelConfig smeared = plain with { SmearedKeys = true };
        using var fresh = new SparseGpt(smeared);
        Assert.Equal(ExpectedNames(smeared), fresh.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(smeared.ParameterCount(), fresh.parameters().Sum(p => p.numel()));
        Assert.Equal(plain.ParameterCount() + smeared.NLayer * smeared.NHead, smeared.ParameterCount());
        Assert.Equal(0, fresh.state_dict()["transformer.h.0.attn.smear.smear_logit"].abs().max().item<float>());
        Assert.Equal((ParameterKind.Dense, NeuronAxis.None),
            fresh.DescribeParameters().Single(p => p.Name == "transformer.h.1.attn.smear.smear_logit") is var d ? (d.Kind, d.NeuronAxis) : default);
        Assert.DoesNotContain("smeared_keys", Json.Serialize(plain)); // off: config files and hashes as before
        Assert.Contains("\"smeared_keys\": true", Json.Serialize(smeared));

        // With a = sigmoid(-40) ~ 4e-18 the keys are the plain ones: same weights, same logits.
        using var withSmear = TestModels.Create(smeared, dtype: ScalarType.Float64);
        using var without = TestModels.Create(plain, dtype: ScalarType.Float64);
        var weights = withSmear.state_dict();
        using (no_grad())
        {
            foreach (var (name, t) in without.state_dict()) t.copy_(weights[name]);
            foreach (var (name, t) in weights.Where(w => w.Key.EndsWith(".smear_logit"))) t.fill_(-40.0);
            var tokens = TestModels.Tokens(2, 9);
            Assert.True(withSmear.forward(tokens).allclose(without.forward(tokens), rtol: 1e-12, atol: 1e-12));
        }
    }

    public static TheoryData<string> ReferenceConfigs() => ["released", "off", "all_options", "rotary", "rotary_sink", "smeared", "smeared_sink"];

    static ModelConfig Named(string name) => name switch
    {
        "released" => TestModels.Tiny(),
        "off" => TestModels.Tiny(ActivationSparsity.Off),
        "rotary" => TestModels.Tiny() with { PositionalEmbedding = PositionalEmbedding.Rotary },      // fused attention
        "rotary_sink" => TestModels.Tiny() with { PositionalEmbedding = PositionalEmbedding.Rotary, AttentionSink = true }, // explicit scores
        "smeared" => TestModels.Tiny() with { PositionalEmbedding = PositionalEmbedding.Rotary, SmearedKeys = true },
        "smeared_sink" => TestModels.Tiny() with { SmearedKeys = true, AttentionSink = true },
        _ => TestModels.AllOptions(),
    };

    [Theory]
    [MemberData(nameof(ReferenceConfigs))]
    public void Forward_matches_a_hand_written_reference(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(Named(config), dtype: ScalarType.Float64);
        var tokens = TestModels.Tokens(3, 9);
        using var _ = no_grad();
        var expected = Reference.Logits(model.Config, model.state_dict(), tokens);
        var actual = model.forward(tokens);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.allclose(expected, rtol: 1e-9, atol: 1e-9), $"max diff {(actual - expected).abs().max().item<double>()}");
    }

    [Theory]
    [MemberData(nameof(ReferenceConfigs))]
    public void Float32_forward_is_close_to_float64(string config)
    {
        using var scope = NewDisposeScope();
        using var model32 = TestModels.Create(Named(config));
        using var model64 = TestModels.Create(Named(config), dtype: ScalarType.Float64);
        var tokens = TestModels.Tokens(2, 16);
        using var _ = no_grad();
        Assert.Equal(ScalarType.Float32, model32.forward(tokens).dtype);
        var diff = (model32.forward(tokens).to(ScalarType.Float64) - model64.forward(tokens)).abs().max().item<double>();
        Assert.True(diff < 1e-4, $"max diff {diff}");
    }

    [Theory]
    [MemberData(nameof(ReferenceConfigs))]
    public void Gradients_match_finite_differences(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(Named(config), dtype: ScalarType.Float64);
        var tokens = TestModels.Tokens(2, 7);
        var targets = TestModels.Tokens(2, 7, seed: 8);
        double Loss()
        {
            using var _ = no_grad();
            return nn.functional.cross_entropy(model.forward(tokens).view(-1, TestModels.Vocab), targets.view(-1)).item<double>();
        }

        nn.functional.cross_entropy(model.forward(tokens).view(-1, TestModels.Vocab), targets.view(-1)).backward();
        var rng = new Random(5);
        const double h = 1e-6;
        int checkedCount = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            var flat = p.detach().view(-1);
            var grad = p.grad!.view(-1);
            for (int trial = 0; trial < 3; trial++)
            {
                long i = rng.NextInt64(flat.numel());
                double analytic = grad[i].item<double>();
                double original = flat[i].item<double>();
                flat[i].fill_(original + h);
                double up = Loss();
                flat[i].fill_(original - h);
                double down = Loss();
                flat[i].fill_(original);
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic) <= 1e-6 + 1e-4 * Math.Abs(analytic),
                    $"{name}[{i}]: analytic {analytic}, numeric {numeric}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount >= 3 * 20);
    }

    [Theory]
    [MemberData(nameof(ReferenceConfigs))]
    public void Changing_a_future_token_leaves_earlier_logits_unchanged(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(Named(config));
        var tokens = TestModels.Tokens(2, 12);
        var changed = tokens.clone();
        changed.select(1, 7).copy_((tokens.select(1, 7) + 1) % TestModels.Vocab);
        using var _ = no_grad();
        var a = model.forward(tokens);
        var b = model.forward(changed);
        Assert.True(a.narrow(1, 0, 7).allclose(b.narrow(1, 0, 7), rtol: 0, atol: 1e-6));
        Assert.False(a.narrow(1, 7, 5).allclose(b.narrow(1, 7, 5), rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void Bf16_matmuls_stay_close_to_fp32_with_float32_parameters_and_gradients()
    {
        using var scope = NewDisposeScope();
        // No AbsTopK: a rounding difference must not flip a selection and move the output in a jump.
        using var model = TestModels.Create(TestModels.Tiny(ActivationSparsity.Off), std: 0.1);
        var tokens = TestModels.Tokens(3, 16);
        Tensor Logits(MatmulPrecision precision, out Dictionary<string, Tensor> grads)
        {
            model.MatmulPrecision = precision;
            model.zero_grad();
            Tensor logits = model.forward(tokens);
            logits.square().mean().backward();
            grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            return logits.detach();
        }
        Tensor fp32 = Logits(MatmulPrecision.Fp32, out var fp32Grads), bf16 = Logits(MatmulPrecision.Bf16, out var bf16Grads);
        Assert.Equal(ScalarType.Float32, bf16.dtype);
        Assert.False(fp32.Same(bf16)); // the switch does change the arithmetic
        double relative = ((bf16 - fp32).norm() / fp32.norm()).item<float>();
        Assert.True(relative < 2e-2, $"relative logit error {relative}");
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Tensor g32 = fp32Grads[name], g16 = bf16Grads[name];
            Assert.Equal(ScalarType.Float32, g16.dtype);
            double cosine = ((g32 * g16).sum() / (g32.norm() * g16.norm() + 1e-30)).item<float>();
            Assert.True(cosine > 0.99, $"{name}: gradient cosine {cosine}");
        }
    }

    [Fact]
    public void Attention_sink_adds_exp_b_to_the_softmax_denominator()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.Tiny(ActivationSparsity.Off) with { AttentionSink = true };
        using var model = TestModels.Create(c, dtype: ScalarType.Float64, std: 0.5);
        var b = model.state_dict()["transformer.h.1.attn.attn_imp.sink_logit"];
        using (no_grad()) b.copy_(tensor(new double[] { 2.0, -1.0 }));
        var hooks = new Hooks().Record([HookPoints.AttnQ.At(1), HookPoints.AttnK.At(1), HookPoints.AttnPattern.At(1)]);
        var tokens = TestModels.Tokens(2, 6);
        using var _ = no_grad();
        model.forward(tokens, hooks);

        var q = hooks[HookPoints.AttnQ.At(1)].view(2, 6, 2, 16).transpose(1, 2); // (B, H, T, D)
        var k = hooks[HookPoints.AttnK.At(1)].view(2, 6, 2, 16).transpose(1, 2);
        var scores = q.matmul(k.transpose(-2, -1)) / 4.0;
        var e = scores.exp().masked_fill(ones(6, 6, ScalarType.Bool).triu(1), 0);
        var expected = e / (e.sum([-1], keepdim: true) + b.exp().view(1, 2, 1, 1));
        Assert.True(hooks[HookPoints.AttnPattern.At(1)].allclose(expected, rtol: 1e-10, atol: 1e-12));
        // The first token sees only itself and the sink: p = 1 / (1 + exp(b - s_00)).
        var firstRow = hooks[HookPoints.AttnPattern.At(1)][0, 0, 0, 0].item<double>();
        Assert.Equal(1 / (1 + Math.Exp(2.0 - scores[0, 0, 0, 0].item<double>())), firstRow, 12);
    }

    [Fact]
    public void Bigram_table_adds_the_current_tokens_row()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.Tiny() with { BigramTable = true };
        using var model = TestModels.Create(c, dtype: ScalarType.Float64);
        var tokens = TestModels.Tokens(2, 5);
        using var _ = no_grad();
        var with = model.forward(tokens);
        var table = model.state_dict()["bigram_table"];
        var saved = table.clone();
        table.zero_();
        var without = model.forward(tokens);
        for (int bi = 0; bi < 2; bi++)
            for (int t = 0; t < 5; t++)
                Assert.True((with[bi, t] - without[bi, t]).allclose(saved[tokens[bi, t].item<long>()], rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void Learned_positions_make_the_model_position_aware()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny() with { PositionalEmbedding = PositionalEmbedding.Learned });
        var same = full(1, 4, 3L, ScalarType.Int64);
        using var _ = no_grad();
        var logits = model.forward(same);
        Assert.False(logits[0, 0].allclose(logits[0, 3], atol: 1e-4));
    }

    [Fact]
    public void Rotary_positions_make_attention_order_aware_without_parameters()
    {
        // One layer without positions sees the earlier tokens as a set: swapping two of them leaves the
        // last position's logits unchanged. With rotary q/k the swap changes them.
        using var scope = NewDisposeScope();
        var tokens = tensor(new long[] { 3, 7, 1, 5 }).view(1, -1);
        var swapped = tensor(new long[] { 7, 3, 1, 5 }).view(1, -1);
        using var _ = no_grad();
        foreach (var positions in new[] { PositionalEmbedding.None, PositionalEmbedding.Rotary })
        {
            var config = TestModels.Tiny(ActivationSparsity.Off) with { NLayer = 1, PositionalEmbedding = positions };
            using var model = TestModels.Create(config);
            Assert.Equal(config.ParameterCount(), model.parameters().Sum(p => p.numel()));
            bool same = model.forward(tokens)[0, 3].allclose(model.forward(swapped)[0, 3], rtol: 0, atol: 1e-5);
            Assert.Equal(positions == PositionalEmbedding.None, same);
        }
    }

    [Fact]
    public void Rotary_attention_patterns_match_the_fused_path()
    {
        // The pattern hook forces explicit scores; the logits must equal the fused path's.
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny() with { PositionalEmbedding = PositionalEmbedding.Rotary });
        var tokens = TestModels.Tokens(2, 12);
        using var _ = no_grad();
        var fused = model.forward(tokens);
        var hooks = new Hooks().Record(HookPoints.AttnPattern.At(0));
        var explicitScores = model.forward(tokens, hooks);
        Assert.True(fused.allclose(explicitScores, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Rejects_sequences_longer_than_n_ctx()
    {
        using var scope = NewDisposeScope();
        using var model = new SparseGpt(TestModels.Tiny());
        Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 17, ScalarType.Int64)));
    }
}

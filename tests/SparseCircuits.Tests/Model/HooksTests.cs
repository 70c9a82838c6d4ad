using SparseCircuits.Core;
using SparseCircuits.Model;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

public sealed class HooksTests
{
    public HooksTests() => TorchRuntime.EnsureInitialized();

    static IEnumerable<string> AllButPattern(ModelConfig c) => HookPoints.All(c.NLayer).Where(n => !n.EndsWith(".attn.pattern"));

    [Fact]
    public void Names_are_the_official_ones_in_forward_order()
    {
        var names = HookPoints.All(2);
        Assert.Equal(2 * 12 + 1, names.Count);
        Assert.Equal(new[]
        {
            "0.resid_in", "0.attn.act_in", "0.attn.q", "0.attn.k", "0.attn.v", "0.attn.pattern", "0.attn.y", "0.attn.resid_delta",
            "0.resid_mid", "0.mlp.act_in", "0.mlp.post_act", "0.mlp.resid_delta",
        }, names.Take(12));
        Assert.Equal("final_resid", names[^1]);
        Assert.True(HookPoints.TryParse("1.mlp.post_act", 2, out int layer, out string site));
        Assert.Equal((1, "mlp.post_act"), (layer, site));
        foreach (string bad in new[] { "2.resid_in", "01.resid_in", "-1.resid_in", "0.attn.z", "resid_in", "0", "" })
            Assert.False(HookPoints.TryParse(bad, 2, out _, out _), bad);
    }

    [Fact]
    public void Records_every_point_with_its_shape()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.AllOptions();
        using var model = TestModels.Create(c);
        var hooks = new Hooks().Record(HookPoints.All(c.NLayer));
        using var _ = no_grad();
        model.forward(TestModels.Tokens(2, 5), hooks);
        Assert.Equal(HookPoints.All(c.NLayer).Order(), hooks.Recorded.Keys.Order());
        foreach (string point in HookPoints.All(c.NLayer))
        {
            long[] expected = point.EndsWith("pattern") ? [2, c.NHead, 5, 5] : [2, 5, HookPoints.Width(c, point)];
            Assert.Equal(expected, hooks[point].shape);
            Assert.False(hooks[point].requires_grad);
        }
        Assert.Equal(48, HookPoints.Width(c, "1.mlp.post_act"));
        Assert.Equal(32, HookPoints.Width(c, "1.attn.q"));
    }

    [Fact]
    public void Recorded_values_are_consistent_with_the_residual_stream()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.Tiny();
        using var model = TestModels.Create(c, dtype: ScalarType.Float64);
        var hooks = new Hooks().Record(HookPoints.All(c.NLayer));
        using var _ = no_grad();
        model.forward(TestModels.Tokens(2, 6), hooks);
        for (int L = 0; L < c.NLayer; L++)
        {
            Assert.True(hooks[HookPoints.ResidMid.At(L)].allclose(hooks[HookPoints.ResidIn.At(L)] + hooks[HookPoints.AttnResidDelta.At(L)]));
            string next = L + 1 < c.NLayer ? HookPoints.ResidIn.At(L + 1) : HookPoints.FinalResid;
            Assert.True(hooks[next].allclose(hooks[HookPoints.ResidMid.At(L)] + hooks[HookPoints.MlpResidDelta.At(L)]));
            // Recorded after AbsTopK: 1/8 of 32 channels and of 128 neurons survive per token.
            Assert.True(hooks[HookPoints.AttnActIn.At(L)].ne(0).sum(-1).le(4).all().item<bool>());
            Assert.True(hooks[HookPoints.MlpPostAct.At(L)].ne(0).sum(-1).le(16).all().item<bool>());
            var pattern = hooks[HookPoints.AttnPattern.At(L)];
            Assert.True(pattern.sum(-1).allclose(ones_like(pattern.sum(-1))));
        }
        Assert.Equal(TestModels.Tokens(2, 6).shape, hooks[HookPoints.FinalResid].shape.Take(2).ToArray());
    }

    [Fact]
    public void Record_only_hooks_do_not_change_the_output()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.AllOptions();
        using var model = TestModels.Create(c);
        var tokens = TestModels.Tokens(2, 9);
        using var _ = no_grad();
        var plain = model.forward(tokens);
        Assert.True(plain.Same(model.forward(tokens, new Hooks().Record(HookPoints.All(c.NLayer)))));
        Assert.True(plain.Same(model.forward(tokens, new Hooks())));

        // Without a sink the unhooked pass uses fused attention; recording the pattern switches to
        // the explicit one, which agrees to rounding.
        using var dense = TestModels.Create(TestModels.Tiny());
        var fused = dense.forward(tokens);
        Assert.True(fused.Same(dense.forward(tokens, new Hooks().Record(AllButPattern(dense.Config)))));
        Assert.True(fused.allclose(dense.forward(tokens, new Hooks().Record(HookPoints.All(2))), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Zeroing_mlp_post_act_equals_zeroing_c_fc_and_changes_only_downstream()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.Tiny() with { Activation = MlpActivation.Gelu }; // gelu(0) = 0
        using var model = TestModels.Create(c, dtype: ScalarType.Float64);
        using var surgery = TestModels.Create(c, dtype: ScalarType.Float64);
        var tokens = TestModels.Tokens(2, 7);
        using var _ = no_grad();
        surgery.state_dict()["transformer.h.0.mlp.c_fc.weight"].zero_();
        surgery.state_dict()["transformer.h.0.mlp.c_fc.bias"].zero_();

        var hooks = new Hooks()
            .Replace(HookPoints.MlpPostAct.At(0), x => zeros_like(x))
            .Record(HookPoints.All(c.NLayer));
        var patched = model.forward(tokens, hooks);
        Assert.True(patched.allclose(surgery.forward(tokens), rtol: 1e-12, atol: 1e-12));

        var clean = new Hooks().Record(HookPoints.All(c.NLayer));
        var original = model.forward(tokens, clean);
        Assert.False(patched.allclose(original, atol: 1e-6));
        int replaced = HookPoints.All(c.NLayer).ToList().IndexOf(HookPoints.MlpPostAct.At(0));
        foreach (var (point, index) in HookPoints.All(c.NLayer).Select((p, i) => (p, i)))
        {
            bool same = hooks[point].Same(clean[point]);
            // Everything before the replaced point is untouched; the replaced value is what the
            // hook returned (recorded after it), and everything after it changes.
            if (index < replaced) Assert.True(same, point);
            else if (index > replaced) Assert.False(same, point);
        }
        Assert.Equal(0, hooks[HookPoints.MlpPostAct.At(0)].abs().sum().item<double>());
    }

    [Fact]
    public void Replacement_keeps_autograd_for_mask_training()
    {
        using var scope = NewDisposeScope();
        var c = TestModels.Tiny();
        using var model = TestModels.Create(c);
        var mask = full(c.MlpWidth, 0.5).requires_grad_();
        var mean = full(c.MlpWidth, 0.1);
        var hooks = new Hooks().Replace(HookPoints.MlpPostAct.At(1), x => x * mask + mean * (1 - mask));
        model.forward(TestModels.Tokens(2, 5), hooks).square().mean().backward();
        Assert.NotNull(mask.grad);
        Assert.True(mask.grad!.abs().sum().item<float>() > 0);
        Assert.NotNull(model.state_dict()["transformer.h.0.mlp.c_fc.weight"].grad);
    }

    [Fact]
    public void Keep_graph_records_stay_differentiable()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny());
        var hooks = new Hooks().Record(HookPoints.ResidMid.At(0), keepGraph: true).Record(HookPoints.ResidIn.At(1));
        model.forward(TestModels.Tokens(1, 4), hooks);
        Assert.True(hooks[HookPoints.ResidMid.At(0)].requires_grad);
        Assert.False(hooks[HookPoints.ResidIn.At(1)].requires_grad);
        hooks[HookPoints.ResidMid.At(0)].sum().backward();
        Assert.NotNull(model.state_dict()["transformer.h.0.attn.c_attn.weight"].grad);
    }

    [Fact]
    public void Hooks_at_one_point_run_in_order()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny());
        var point = HookPoints.AttnV.At(0);
        var hooks = new Hooks().Record(point).Replace(point, x => x * 2);
        var after = new Hooks().Replace(point, x => x * 2).Record(point);
        using var _ = no_grad();
        model.forward(TestModels.Tokens(1, 4), hooks);
        model.forward(TestModels.Tokens(1, 4), after);
        Assert.True((hooks[point] * 2).Same(after[point]));
    }

    [Fact]
    public void Patching_the_residual_stream_replaces_everything_upstream()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny());
        var a = TestModels.Tokens(1, 6, seed: 1);
        var b = TestModels.Tokens(1, 6, seed: 2);
        using var _ = no_grad();
        var source = new Hooks().Record(HookPoints.ResidIn.At(1));
        var expected = model.forward(a, source);
        var patched = model.forward(b, new Hooks().Replace(HookPoints.ResidIn.At(1), _ => source[HookPoints.ResidIn.At(1)]));
        Assert.True(patched.Same(expected));
    }

    [Theory]
    [InlineData("0.resid_in")]
    [InlineData("1.resid_in")]
    [InlineData("0.resid_mid")]
    [InlineData("1.resid_mid")]
    [InlineData("final_resid")]
    public void Forward_from_a_residual_point_reproduces_the_full_forward(string point)
    {
        using var scope = NewDisposeScope();
        var c = TestModels.AllOptions();
        using var model = TestModels.Create(c);
        var tokens = TestModels.Tokens(2, 6);
        using var _ = no_grad();
        var full = new Hooks().Record(HookPoints.All(c.NLayer));
        var expected = model.forward(tokens, full);

        var tail = new Hooks().Record(HookPoints.All(c.NLayer));
        var actual = model.ForwardFrom(point, full[point], tokens, tail);
        Assert.True(actual.Same(expected));
        int start = HookPoints.All(c.NLayer).ToList().IndexOf(point);
        foreach (var (name, index) in HookPoints.All(c.NLayer).Select((p, i) => (p, i)))
            Assert.Equal(index >= start, tail.Recorded.ContainsKey(name));
        Assert.Throws<ArgumentException>(() => model.ForwardFrom("0.attn.q", full[point], tokens));
    }

    [Fact]
    public void Bad_hooks_are_reported()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny());
        var tokens = TestModels.Tokens(1, 3);
        var e = Assert.Throws<SparseCircuitsException>(() => model.forward(tokens, new Hooks().Record("5.mlp.post_act")));
        Assert.Contains("5.mlp.post_act", e.Message);
        Assert.Throws<InvalidOperationException>(() => model.forward(tokens, new Hooks().Replace(HookPoints.AttnQ.At(0), x => x.narrow(-1, 0, 3))));
        Assert.Throws<KeyNotFoundException>(() => new Hooks()["0.attn.q"]);
    }
}

public sealed class LogitsAtTests
{
    [Fact]
    public void Logits_at_chosen_positions_equal_the_full_forward_read_there_with_hooks_and_bigram()
    {
        SparseCircuits.Core.TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.AllOptions());
        Tensor tokens = TestModels.Tokens(3, 9);
        Tensor positions = tensor(new long[] { 8, 0, 4 });
        var hooks = new Hooks().Replace(HookPoints.MlpPostAct.At(0), x => x * 0.5);
        Tensor full = model.forward(tokens, hooks); // (3, 9, vocab)
        Tensor expected = full.gather(1, positions.view(3, 1, 1).expand(3, 1, full.shape[2])).squeeze(1);
        Tensor actual = model.LogitsAt(tokens, positions, new Hooks().Replace(HookPoints.MlpPostAct.At(0), x => x * 0.5));
        Assert.True(torch.allclose(expected, actual, rtol: 1e-5, atol: 1e-5));
    }
}

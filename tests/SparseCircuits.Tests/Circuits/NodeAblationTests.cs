using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tests.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Circuits;

/// <summary>Mask hooks at the two ends (everything open, everything closed) and in between.</summary>
public sealed class NodeAblationTests
{
    public NodeAblationTests() => TorchRuntime.EnsureInitialized();

    static MeanActivations Means(SparseGpt model) => MeanActivations.Compute(model, [TestModels.Tokens(4, 16, seed: 11)]);

    [Fact]
    public void All_masks_open_is_the_unhooked_model_exactly()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.AllOptions());
        using var means = Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        Tensor tokens = TestModels.Tokens(3, 12);
        using var _ = no_grad();
        Tensor plain = model.forward(tokens);
        Assert.True(plain.Same(model.forward(tokens, ablation.Fixed(Enumerable.Repeat(true, space.Count).ToArray()))));
        Tensor open = StraightThroughMask.Apply(full(space.Count, 0.3f), 1.0);
        Assert.True(plain.Same(model.forward(tokens, ablation.Masked(open))));
    }

    [Theory]
    [InlineData(AblationKind.Mean)]
    [InlineData(AblationKind.Zero)]
    public void All_masks_closed_puts_every_node_at_its_baseline(AblationKind kind)
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.AllOptions());
        using var means = Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, kind);
        Tensor tokens = TestModels.Tokens(3, 12);
        var direct = new Hooks();
        foreach (NodePoint p in space.Points)
        {
            Tensor value = kind == AblationKind.Mean ? means[p.Name] : zeros(p.Width);
            direct.Replace(p.Name, x => value.expand_as(x));
        }
        using var _ = no_grad();
        Tensor expected = model.forward(tokens, direct);
        Assert.True(expected.Same(model.forward(tokens, ablation.Fixed(new bool[space.Count]))));
        Assert.False(expected.Same(model.forward(tokens)));
    }

    [Fact]
    public void One_closed_node_changes_only_its_channel_at_its_point()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny(ActivationSparsity.Off));
        using var means = Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var node = new NodeId(1, NodeLocation.AttnQ, 5);
        bool[] keep = Enumerable.Repeat(true, space.Count).ToArray();
        keep[space.IndexOf(node)] = false;
        Tensor tokens = TestModels.Tokens(2, 7);
        using var _ = no_grad();
        var plain = new Hooks().Record(node.Point);
        model.forward(tokens, plain);
        var hooks = ablation.Fixed(keep).Record(node.Point);
        model.forward(tokens, hooks);
        Tensor before = plain[node.Point], after = hooks[node.Point];
        Assert.True(after.select(-1, 5).eq(means[node.Point][5]).all().item<bool>());
        Tensor others = tensor(Enumerable.Range(0, (int)before.shape[^1]).Where(c => c != 5).Select(c => (long)c).ToArray());
        Assert.True(after.index_select(-1, others).Same(before.index_select(-1, others)));
        Assert.False(after.Same(before));
    }
}

using SparseCircuits.Bridges;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Bridges;

public sealed class BridgeObjectiveTests
{
    static ModelConfig Tiny => ModelPresets.Get("tiny", 50) with { NCtx = 16 };

    [Fact]
    public void Gradients_reach_the_sparse_model_and_every_bridge_but_no_dense_parameter()
    {
        using var generator = new Generator().manual_seed(3);
        using var dense = new SparseGpt(Tiny with { ActivationSparsity = ActivationSparsity.Off }, generator);
        foreach (var p in dense.parameters()) p.requires_grad_(false);
        using var sparse = new SparseGpt(Tiny, generator);
        using var bridges = new BridgeSet(Tiny.NLayer, Tiny.DModel, Tiny.DModel, 0.25, generator);
        var info = new BridgeRunInfo("dense", "dense/checkpoints/step_000001", "hash", "tokenizer", bridges.Sites, new BridgeConfig());
        var objective = new BridgeObjective(dense, bridges, new BridgeConfig(), info);
        using Tensor windows = randint(0, 50, [2, 17], generator: generator);

        var (loss, terms) = objective.ForwardBackward(sparse, windows, step: 0);

        Assert.True(double.IsFinite(loss));
        Assert.Equal([BridgeObjective.LmTerm, BridgeObjective.NmseTerm, BridgeObjective.KlDenseToSparseTerm, BridgeObjective.KlSparseToDenseTerm], terms.Keys);
        Assert.All(dense.parameters(), p => Assert.Null(p.grad));
        foreach (var p in objective.Parameters)
            Assert.True(p.Value.grad is { } g && g.abs().sum().item<float>() > 0, $"{p.Name} got no gradient");
        foreach (var (name, p) in sparse.named_parameters())
            if (name.EndsWith(".weight") && !name.Contains("ln_"))
                Assert.True(p.grad is { } g && g.abs().sum().item<float>() > 0, $"{name} got no gradient");
    }

    [Fact]
    public void Rotating_kl_sites_visit_every_site_equally_and_scale_the_sum_up()
    {
        IReadOnlyList<string> sites = BridgeSites.For(4); // 8 sites
        var visits = sites.ToDictionary(s => s, _ => 0);
        for (long step = 0; step < 8; step++)
        {
            var (chosen, scale) = BridgeObjective.KlSites(sites, 3, step);
            Assert.Equal(3, chosen.Count);
            Assert.Equal(8.0 / 3, scale, 12);
            foreach (string s in chosen) visits[s]++;
        }
        Assert.All(visits.Values, v => Assert.Equal(3, v)); // 8 steps x 3 sites = 24 = 8 sites x 3
        Assert.Equal((sites, 1.0), BridgeObjective.KlSites(sites, null, 5));
    }

    [Fact]
    public void Sites_are_the_residuals_before_each_sublayer_and_nodes_map_to_the_one_they_read()
    {
        Assert.Equal(["0.resid_in", "0.resid_mid", "1.resid_in", "1.resid_mid"], BridgeSites.For(2));
        Assert.Equal("1.resid_in", BridgeSites.Of(NodeId.Parse("1.attn.act_in[4]")));
        Assert.Equal("0.resid_mid", BridgeSites.Of(NodeId.Parse("0.mlp.act_in[9]")));
        var error = Assert.Throws<SparseCircuitsException>(() => BridgeSites.Of(NodeId.Parse("0.attn.q[2]")));
        Assert.Contains("not a residual channel read by a sublayer", error.Message);
    }

    [Fact]
    public void A_node_outside_the_circuit_or_not_a_node_id_is_refused_in_one_line()
    {
        NodeId[] circuit = [NodeId.Parse("1.mlp.act_in[3]")];
        Assert.Equal(circuit[0], BridgeSteering.CircuitNode(circuit, "quote_assign", "1.mlp.act_in[3]"));
        var outside = Assert.Throws<SparseCircuitsException>(() => BridgeSteering.CircuitNode(circuit, "quote_assign", "1.mlp.act_in[4]"));
        Assert.Equal("node 1.mlp.act_in[4] is not in the quote_assign circuit (1 nodes)", outside.Message);
        var garbled = Assert.Throws<SparseCircuitsException>(() => BridgeSteering.CircuitNode(circuit, "quote_assign", "mlp 3"));
        Assert.DoesNotContain('\n', garbled.Message);
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Circuits;

/// <summary>Edge extraction on a two-layer model with a handful of hand-set weights.</summary>
public sealed class CircuitGraphTests
{
    static SparseGpt HandBuilt(PositionalEmbedding positions = PositionalEmbedding.None)
    {
        TorchRuntime.EnsureInitialized();
        var config = new ModelConfig { VocabSize = 8, NLayer = 2, DModel = 8, DHead = 4, DMlp = 8, NCtx = 8, ActivationSparsity = ActivationSparsity.Off,
            PositionalEmbedding = positions }.Validate();
        var model = new SparseGpt(config);
        var w = model.state_dict();
        using var _ = no_grad();
        foreach (Tensor t in w.Values) t.zero_();
        foreach (string name in w.Keys.Where(n => n.Contains(".ln_"))) w[name].fill_(1);
        Tensor attn = w["transformer.h.0.attn.c_attn.weight"]; // (3 * 8, 8): q rows 0..7, k rows 8..15, v rows 16..23
        attn[2, 1].fill_(0.5);      // act_in 1 -> q 2
        attn[8 + 2, 1].fill_(-0.25); // act_in 1 -> k 2
        attn[16 + 5, 3].fill_(2);    // act_in 3 -> v 5
        attn[16 + 6, 3].fill_(7);    // act_in 3 -> v 6, but v 6 is not kept
        attn[2, 0].fill_(9);         // act_in 0 -> q 2, but act_in 0 is not kept
        w["transformer.h.0.attn.c_proj.weight"][4, 5].fill_(1.5); // v 5 -> attn resid_delta 4 (resid_delta 6 is kept with weight 0)
        w["transformer.h.0.mlp.c_fc.weight"][7, 4].fill_(0.3);    // mlp act_in 4 -> post_act 7
        w["transformer.h.0.mlp.c_proj.weight"][2, 7].fill_(-0.9); // post_act 7 -> mlp resid_delta 2
        w["transformer.h.1.ln_1.weight"][4].fill_(0.7);
        w["transformer.h.1.ln_2.weight"][2].fill_(0);             // cuts mlp resid_delta 2 -> layer 1 mlp act_in 2
        w["transformer.h.1.mlp.c_fc.weight"][0, 2].fill_(1);      // layer 1 mlp act_in 2 -> post_act 0 (post_act 0 kept)
        return model;
    }

    static NodeId N(int layer, NodeLocation location, int index) => new(layer, location, index);

    [Fact]
    public void Edges_are_exactly_the_nonzero_connections_between_kept_nodes()
    {
        using var model = HandBuilt();
        NodeId[] kept =
        [
            N(0, NodeLocation.AttnActIn, 1), N(0, NodeLocation.AttnActIn, 3),
            N(0, NodeLocation.AttnQ, 2), N(0, NodeLocation.AttnK, 2), N(0, NodeLocation.AttnQ, 3), N(0, NodeLocation.AttnV, 5),
            N(0, NodeLocation.AttnResidDelta, 4), N(0, NodeLocation.AttnResidDelta, 6),
            N(0, NodeLocation.MlpActIn, 4), N(0, NodeLocation.MlpPostAct, 7), N(0, NodeLocation.MlpResidDelta, 2),
            N(1, NodeLocation.AttnActIn, 4), N(1, NodeLocation.AttnActIn, 2), N(1, NodeLocation.MlpActIn, 2), N(1, NodeLocation.MlpPostAct, 0),
        ];
        var edges = CircuitGraph.Edges(model, kept);
        var expected = new (string From, string To, string Kind, double Weight, string? Parameter, int[]? Index)[]
        {
            ("0.attn.act_in[1]", "0.attn.q[2]", "weight", 0.5, "transformer.h.0.attn.c_attn.weight", [2, 1]),
            ("0.attn.act_in[1]", "0.attn.k[2]", "weight", -0.25, "transformer.h.0.attn.c_attn.weight", [10, 1]),
            ("0.attn.act_in[3]", "0.attn.v[5]", "weight", 2, "transformer.h.0.attn.c_attn.weight", [21, 3]),
            ("0.attn.k[2]", "0.attn.q[2]", "attention_score", 0.5, null, null),
            ("0.attn.v[5]", "0.attn.resid_delta[4]", "weight", 1.5, "transformer.h.0.attn.c_proj.weight", [4, 5]),
            ("0.mlp.act_in[4]", "0.mlp.post_act[7]", "weight", 0.3, "transformer.h.0.mlp.c_fc.weight", [7, 4]),
            ("0.mlp.post_act[7]", "0.mlp.resid_delta[2]", "weight", -0.9, "transformer.h.0.mlp.c_proj.weight", [2, 7]),
            ("1.mlp.act_in[2]", "1.mlp.post_act[0]", "weight", 1, "transformer.h.1.mlp.c_fc.weight", [0, 2]),
            ("0.attn.resid_delta[4]", "0.mlp.act_in[4]", "residual", 1, "transformer.h.0.ln_2.weight", [4]),
            ("0.attn.resid_delta[4]", "1.attn.act_in[4]", "residual", 0.7, "transformer.h.1.ln_1.weight", [4]),
            ("0.mlp.resid_delta[2]", "1.attn.act_in[2]", "residual", 1, "transformer.h.1.ln_1.weight", [2]),
        };
        string Key(string from, string to, string kind) => $"{from} -> {to} ({kind})";
        Assert.Equal(expected.Select(e => Key(e.From, e.To, e.Kind)).Order(), edges.Select(e => Key(e.Source, e.Target, e.Kind)).Order());
        foreach (var e in expected)
        {
            CircuitEdge actual = edges.Single(a => a.Source == e.From && a.Target == e.To);
            Assert.Equal(e.Weight, actual.Weight, 6);
            Assert.Equal(e.Parameter, actual.Parameter);
            Assert.Equal(e.Index, actual.ParameterIndex);
        }
    }

    [Fact]
    public void The_paper_counts_only_the_weight_edges_of_a_circuit()
    {
        using var model = HandBuilt();
        NodeId[] kept =
        [
            N(0, NodeLocation.AttnActIn, 1), N(0, NodeLocation.AttnQ, 2), N(0, NodeLocation.AttnK, 2),
            N(0, NodeLocation.AttnResidDelta, 4), N(0, NodeLocation.MlpActIn, 4), N(1, NodeLocation.AttnActIn, 4),
        ];
        var edges = CircuitGraph.Edges(model, kept);
        // Two c_attn weights (act_in -> q, act_in -> k); one attention score; two residual links.
        Assert.Equal(5, edges.Count);
        Assert.Equal(2, CircuitGraph.PaperEdgeCount(edges));
        Assert.Equal(1, edges.Count(e => e.Kind == CircuitGraph.AttentionScore));
        Assert.Equal(2, edges.Count(e => e.Kind == CircuitGraph.Residual));
    }

    [Fact]
    public void No_nodes_no_edges_and_unkept_partners_give_none()
    {
        using var model = HandBuilt();
        Assert.Empty(CircuitGraph.Edges(model, []));
        Assert.Empty(CircuitGraph.Edges(model, [N(0, NodeLocation.AttnQ, 2), N(0, NodeLocation.AttnK, 3), N(0, NodeLocation.AttnActIn, 5)]));
    }

    [Fact]
    public void Rotary_scores_also_link_each_q_channel_to_its_rotation_partner()
    {
        // d_head 4: head 0 holds channels 0-3, pairs (0, 2) and (1, 3); head 1 holds 4-7.
        NodeId[] kept = [N(0, NodeLocation.AttnQ, 2), N(0, NodeLocation.AttnK, 0), N(0, NodeLocation.AttnK, 2), N(0, NodeLocation.AttnK, 1),
            N(0, NodeLocation.AttnQ, 5), N(0, NodeLocation.AttnK, 7), N(0, NodeLocation.AttnK, 6)];
        static string[] Scores(IEnumerable<CircuitEdge> edges) =>
            edges.Where(e => e.Kind == CircuitGraph.AttentionScore).Select(e => $"{e.Source} -> {e.Target}").Order().ToArray();
        using (var plain = HandBuilt())
            Assert.Equal(["0.attn.k[2] -> 0.attn.q[2]"], Scores(CircuitGraph.Edges(plain, kept)));
        using var rotary = HandBuilt(PositionalEmbedding.Rotary);
        Assert.Equal(["0.attn.k[0] -> 0.attn.q[2]", "0.attn.k[2] -> 0.attn.q[2]", "0.attn.k[7] -> 0.attn.q[5]"], Scores(CircuitGraph.Edges(rotary, kept)));
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Reports;

namespace SparseCircuits.Tests.Reports;

public sealed class CircuitLayoutTests
{
    [Fact]
    public void Every_layer_has_six_rows_in_forward_order()
    {
        var rows = CircuitLayout.Rows(2);
        Assert.Equal(12, rows.Count);
        Assert.Equal(["L0 attn act_in", "L0 attn q/k/v", "L0 attn resid_delta", "L0 mlp act_in", "L0 mlp post_act", "L0 mlp resid_delta"], rows.Take(6).Select(r => r.Label));
        Assert.Equal("L1 attn act_in", rows[6].Label);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (double)i), rows.Select(r => r.Y));
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], rows.Select(r => r.Layer));
    }

    [Fact]
    public void Nodes_spread_evenly_in_their_row_with_qkv_grouped_by_head_then_kind_then_channel()
    {
        NodeId N(int layer, NodeLocation location, int index) => new(layer, location, index);
        var nodes = new[]
        {
            N(1, NodeLocation.AttnV, 3), N(1, NodeLocation.AttnQ, 17), N(1, NodeLocation.AttnK, 2), N(1, NodeLocation.AttnQ, 5),
            N(1, NodeLocation.AttnK, 16), N(0, NodeLocation.MlpPostAct, 40), N(0, NodeLocation.MlpPostAct, 7), N(0, NodeLocation.AttnResidDelta, 9),
        };
        var placed = CircuitLayout.Place(nodes, dHead: 16);
        // Layer 1 q/k/v row (y = 7): head 0 q5, k2, v3, then head 1 q17, k16.
        NodeId[] qkv = [N(1, NodeLocation.AttnQ, 5), N(1, NodeLocation.AttnK, 2), N(1, NodeLocation.AttnV, 3), N(1, NodeLocation.AttnQ, 17), N(1, NodeLocation.AttnK, 16)];
        for (int i = 0; i < qkv.Length; i++) Assert.Equal(((i + 0.5) / 5, 7.0), placed[qkv[i]]);
        Assert.Equal((0.25, 4.0), placed[N(0, NodeLocation.MlpPostAct, 7)]);
        Assert.Equal((0.75, 4.0), placed[N(0, NodeLocation.MlpPostAct, 40)]);
        Assert.Equal((0.5, 2.0), placed[N(0, NodeLocation.AttnResidDelta, 9)]);
    }
}

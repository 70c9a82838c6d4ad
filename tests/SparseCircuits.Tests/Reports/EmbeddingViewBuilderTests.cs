using SparseCircuits.Circuits;
using SparseCircuits.Reports;

namespace SparseCircuits.Tests.Reports;

public sealed class EmbeddingViewBuilderTests
{
    [Fact]
    public void Top_and_bottom_tokens_per_channel_skip_zeros_and_break_ties_by_token()
    {
        // vocab 5, d_model 2, row-major (token, channel).
        float[] wte = [3, 0, /**/ -1, 0, /**/ 3, 2, /**/ 0, -5, /**/ 0.5f, -2];
        float[] lmHead = [0, 1, /**/ 0, 2, /**/ 0, 3, /**/ 0, 4, /**/ 0, -1];
        string[] texts = ["a", "b", "c", "d", "e"];
        var users = new Dictionary<int, IReadOnlyList<string>> { [1] = ["quotes"] };
        EmbeddingView view = EmbeddingViewBuilder.Build(wte, lmHead, dModel: 2, texts, perSide: 2, users);

        Assert.Equal(2, view.TokensPerSide);
        EmbeddingChannel c0 = view.Channels[0], c1 = view.Channels[1];
        Assert.Equal([("a", 3.0), ("c", 3.0)], c0.WteTop.Select(t => (t.Token, t.Weight)));
        Assert.Equal([("b", -1.0)], c0.WteBottom.Select(t => (t.Token, t.Weight)));
        Assert.Empty(c0.LmHeadTop);
        Assert.Empty(c0.LmHeadBottom);
        Assert.Empty(c0.UsedBy);
        Assert.Equal([("c", 2.0)], c1.WteTop.Select(t => (t.Token, t.Weight)));
        Assert.Equal([("d", -5.0), ("e", -2.0)], c1.WteBottom.Select(t => (t.Token, t.Weight)));
        Assert.Equal(["d", "c"], c1.LmHeadTop.Select(t => t.Token));
        Assert.Equal(["e"], c1.LmHeadBottom.Select(t => t.Token));
        Assert.Equal(["quotes"], c1.UsedBy);
    }

    [Fact]
    public void A_channel_is_used_by_circuits_keeping_a_residual_read_or_write_on_it()
    {
        var users = EmbeddingViewBuilder.ChannelUsers(new Dictionary<string, IReadOnlyList<NodeId>>
        {
            ["a"] = [new(0, NodeLocation.AttnActIn, 3), new(1, NodeLocation.MlpResidDelta, 3), new(0, NodeLocation.AttnQ, 5)],
            ["b"] = [new(0, NodeLocation.MlpActIn, 4), new(1, NodeLocation.AttnResidDelta, 3), new(0, NodeLocation.MlpPostAct, 7)],
        });
        Assert.Equal(["a", "b"], users[3]);
        Assert.Equal(["b"], users[4]);
        Assert.False(users.ContainsKey(5)); // q channel 5 is not residual channel 5
        Assert.False(users.ContainsKey(7));
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Reports;

public sealed class AttentionRebuildTests
{
    public AttentionRebuildTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void A_pattern_from_chosen_channels_is_the_causal_softmax_of_their_scores()
    {
        // 3 positions, d_head 4, channels 0 and 2 only: scores are (q0 k0 + q2 k2) / 2.
        float[] q = [1, 9, 2, 9, /**/ 0, 9, 1, 9, /**/ 3, 9, -1, 9];
        float[] k = [1, 7, 0, 7, /**/ 2, 7, 1, 7, /**/ -1, 7, 4, 7];
        var pattern = AttentionRebuild.Pattern(q, k, [0, 2], dHead: 4);
        static double[] Softmax(params double[] s) => s.Select(x => Math.Exp(x) / s.Sum(Math.Exp)).ToArray();
        double[][] expected =
        [
            [1, 0, 0],
            [.. Softmax(0 / 2.0, 1 / 2.0), 0],
            Softmax(3 / 2.0, 5 / 2.0, -7 / 2.0),
        ];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(expected[i][j], pattern[i][j], 2);
        Assert.All(pattern, row => Assert.Equal(1, row.Sum(), 2));
        // No channels: uniform over the visible keys.
        Assert.All(AttentionRebuild.Pattern(q, k, [], 4)[2], v => Assert.Equal(1 / 3.0, v, 3));
    }

    [Theory]
    [InlineData(PositionalEmbedding.None)]
    [InlineData(PositionalEmbedding.Rotary)]
    public void Kept_equals_full_when_the_head_keeps_every_channel_and_full_is_the_models_own_pattern(PositionalEmbedding positions)
    {
        var config = TestModels.Tiny(ActivationSparsity.Off) with { PositionalEmbedding = positions }; // 2 heads of 16 channels, no sink
        using var model = TestModels.Create(config);
        int[] prompt = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
        var circuit = Enumerable.Range(16, 16).SelectMany(c => new[] { new NodeId(1, NodeLocation.AttnQ, c), new NodeId(1, NodeLocation.AttnK, c) })
            .Append(new NodeId(0, NodeLocation.AttnQ, 2)).ToList();
        var texts = Enumerable.Range(0, TestModels.Vocab).Select(t => $"<{t}>").ToList();
        var views = AttentionRebuild.ForCircuit(model, circuit, prompt, texts, window: 6);

        AttentionView head1 = views[(1, 1)];
        Assert.Equal(Enumerable.Range(16, 16), head1.KeptChannels);
        Assert.Equal(prompt[^6..].Select(t => $"<{t}>"), head1.Tokens);
        for (int i = 0; i < 6; i++) Assert.Equal(head1.Full[i], head1.Kept[i]);

        // Layer 0 head 0 keeps q[2] but no k: nothing is kept in both, so its rebuilt rows are uniform.
        AttentionView head0 = views[(0, 0)];
        Assert.Empty(head0.KeptChannels);
        Assert.Equal(1 / 6f, head0.Kept[5][0], 3);

        // With the whole prompt in the window, Full is exactly the model's attention of that head.
        var whole = AttentionRebuild.ForCircuit(model, circuit, prompt, texts, window: prompt.Length)[(1, 1)];
        using var scope = NewDisposeScope();
        var hooks = new Hooks().Record(HookPoints.AttnPattern.At(1));
        using (no_grad()) model.forward(tensor(prompt.Select(t => (long)t).ToArray()).view(1, -1), hooks);
        float[] own = hooks[HookPoints.AttnPattern.At(1)][0, 1].contiguous().data<float>().ToArray(); // (T, T)
        for (int i = 0; i < prompt.Length; i++)
            for (int j = 0; j < prompt.Length; j++) Assert.InRange(whole.Full[i][j] - own[i * prompt.Length + j], -2e-3, 2e-3); // the view keeps 3 digits
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Circuits;

/// <summary>
/// A one-layer model whose weights are set by hand so that exactly four nodes solve a task:
/// "after A say T, after B say U". Tokens: A B T U C D X Y. Residual channels: c0 cue (A +1,
/// B -1), c1 distractor cue (C +1, D -1), c2 the answer channel the unembedding reads for T vs U,
/// c3 the distractor answer channel (read for C vs D), c4 filler identity (X +1, Y -1), c5 answer
/// identity (T +1, U -1), c7 a constant 2 in every token (so every embedding has the same norm).
/// Attention is inert (all-zero weights). ReLU neurons: n0 = relu(4 c0) and n1 = relu(-4 c0)
/// write +c2 and -c2; distractors n2 = relu(4 c1), n3 = relu(-4 c1) write +c3 and -c3.
/// The circuit: 0.mlp.act_in[0], 0.mlp.post_act[0], 0.mlp.post_act[1], 0.mlp.resid_delta[2], with
/// 4 edges (c_fc[0,0], c_fc[1,0], mlp c_proj[2,0], mlp c_proj[2,1]). The mean text is mostly
/// distractor and filler tokens with rare A/B, so a frozen planted node carries almost no signal.
/// </summary>
internal static class PlantedModel
{
    public const int A = 0, B = 1, T = 2, U = 3, C = 4, D = 5, X = 6, Y = 7;

    public static readonly NodeId[] Circuit =
    [
        new(0, NodeLocation.MlpActIn, 0), new(0, NodeLocation.MlpPostAct, 0), new(0, NodeLocation.MlpPostAct, 1), new(0, NodeLocation.MlpResidDelta, 2),
    ];

    public const int CircuitEdges = 4;

    public static ModelConfig Config => new ModelConfig
    {
        VocabSize = 8, NLayer = 1, DModel = 8, DHead = 4, DMlp = 4, NCtx = 8,
        Activation = MlpActivation.Relu, ActivationSparsity = ActivationSparsity.Off,
    }.Validate();

    public static SparseGpt Create()
    {
        TorchRuntime.EnsureInitialized();
        var model = new SparseGpt(Config);
        var w = model.state_dict();
        using var _ = no_grad();
        foreach (Tensor t in w.Values) t.zero_();
        foreach (string norm in new[] { "transformer.h.0.ln_1.weight", "transformer.h.0.ln_2.weight", "transformer.ln_f.weight" }) w[norm].fill_(1);

        Tensor wte = w["transformer.wte.weight"]; // (vocab, d_model)
        (int token, int channel, float sign)[] embedding =
            [(A, 0, 1), (B, 0, -1), (C, 1, 1), (D, 1, -1), (X, 4, 1), (Y, 4, -1), (T, 5, 1), (U, 5, -1)];
        foreach (var (token, channel, sign) in embedding)
        {
            wte[token, channel].fill_(sign);
            wte[token, 7].fill_(2);
        }

        Tensor fc = w["transformer.h.0.mlp.c_fc.weight"], proj = w["transformer.h.0.mlp.c_proj.weight"]; // (d_mlp, d_model), (d_model, d_mlp)
        fc[0, 0].fill_(4); fc[1, 0].fill_(-4); proj[2, 0].fill_(1); proj[2, 1].fill_(-1); // the circuit
        fc[2, 1].fill_(4); fc[3, 1].fill_(-4); proj[3, 2].fill_(1); proj[3, 3].fill_(-1); // distractors

        Tensor head = w["lm_head.weight"]; // (vocab, d_model)
        head[T, 2].fill_(3); head[U, 2].fill_(-3);
        head[C, 3].fill_(3); head[D, 3].fill_(-3);
        model.eval();
        return model;
    }

    /// <summary>Contrast pairs "fillers A" -&gt; T vs "fillers B" -&gt; U with 0..3 random filler tokens.</summary>
    public static List<TaskExample> Pairs(int count, ulong seed)
    {
        var random = new SplitMix64(seed);
        var examples = new List<TaskExample>();
        for (int i = 0; i < count; i++)
        {
            int[] fillers = Enumerable.Range(0, (int)random.NextBelow(4)).Select(_ => random.NextBelow(2) == 0 ? X : Y).ToArray();
            examples.Add(new TaskExample([.. fillers, A], T, U));
            examples.Add(new TaskExample([.. fillers, B], U, T));
        }
        return examples;
    }

    public static BinaryTask Task() => new("planted", Pairs(48, 1), Pairs(24, 2), Pairs(24, 3));

    /// <summary>Means over text where A and B are rare (1 in 64 each) and the other tokens common.</summary>
    public static MeanActivations Means(SparseGpt model)
    {
        var random = new SplitMix64(99);
        int[] common = [T, U, C, D, X, Y];
        var tokens = new long[64 * 8];
        for (int i = 0; i < tokens.Length; i++)
        {
            ulong r = random.NextBelow(64);
            tokens[i] = r == 0 ? A : r == 1 ? B : common[random.NextBelow((ulong)common.Length)];
        }
        using var scope = NewDisposeScope();
        return MeanActivations.Compute(model, [tensor(tokens).view(64, 8)]);
    }
}

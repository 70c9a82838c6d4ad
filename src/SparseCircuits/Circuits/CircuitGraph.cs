using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>
/// An edge between two kept nodes: a nonzero weight (<see cref="CircuitGraph.Weight"/>), the
/// attention score linking a q and a k channel (<see cref="CircuitGraph.AttentionScore"/>), or
/// the residual stream carrying a write to a later read (<see cref="CircuitGraph.Residual"/>).
/// <paramref name="Parameter"/> and <paramref name="ParameterIndex"/> name the entry the weight
/// lives in (row, column for matrices; channel for norm weights; null for the attention score).
/// </summary>
public sealed record CircuitEdge(string Source, string Target, string Kind, double Weight, string? Parameter, int[]? ParameterIndex);

/// <summary>
/// The edges of a circuit, computed from the model's actual (sparse) weights. The exact rules
/// (docs/circuits.md), within layer L unless said otherwise, weights laid out (out, in):
/// <list type="number">
/// <item>L.attn.act_in[i] -&gt; L.attn.q/k/v[j]: c_attn.weight[off + j, i] (off = 0, H*D, 2*H*D for q, k, v)</item>
/// <item>L.attn.k[j] -&gt; L.attn.q[j]: the attention score sum_c q_c k_c / sqrt(d_head) pairs q channel j
/// only with k channel j (same head, same channel); weight 1/sqrt(d_head), no parameter. With rotary positions
/// q channel j also meets k channel j ± d_head/2, its rotation partner (the score mixes each pair), weight the same</item>
/// <item>L.attn.v[j] -&gt; L.attn.resid_delta[o]: attn.c_proj.weight[o, j] (attn.y channel j is head-weighted v channel j)</item>
/// <item>L.mlp.act_in[i] -&gt; L.mlp.post_act[n]: mlp.c_fc.weight[n, i]</item>
/// <item>L.mlp.post_act[n] -&gt; L.mlp.resid_delta[o]: mlp.c_proj.weight[o, n]</item>
/// <item>a residual write (attn/mlp.resid_delta[c]) -&gt; every later residual read of channel c
/// (attn.act_in via ln_1, mlp.act_in via ln_2, of the same block's MLP for an attention write and
/// of all later blocks): the reading norm's weight[c]</item>
/// </list>
/// Only nonzero weights count; the attention score always does when both ends are kept.
/// </summary>
public static class CircuitGraph
{
    public const string Weight = "weight";
    public const string AttentionScore = "attention_score";
    public const string Residual = "residual";

    /// <summary>
    /// The paper's edge count, the headline number everywhere (summary, report, frontier): nonzero
    /// weights whose both ends are kept nodes. Attention-score and residual links are drawn in the
    /// viewer and counted by kind, but they are not weights and do not count.
    /// </summary>
    public static int PaperEdgeCount(IEnumerable<CircuitEdge> edges) => edges.Count(e => e.Kind == Weight);

    /// <summary>The k channels whose product with q channel <paramref name="q"/> enters the attention score.</summary>
    static IEnumerable<int> ScorePartners(int q, ModelConfig c)
    {
        yield return q;
        if (c.PositionalEmbedding != PositionalEmbedding.Rotary) yield break;
        int half = c.DHead / 2, head = q / c.DHead, within = q % c.DHead;
        yield return head * c.DHead + (within + half) % c.DHead;
    }

    public static IReadOnlyList<CircuitEdge> Edges(SparseGpt model, IEnumerable<NodeId> nodes)
    {
        ModelConfig c = model.Config;
        var kept = nodes.GroupBy(n => (n.Layer, n.Location)).ToDictionary(g => g.Key, g => g.Select(n => n.Index).Distinct().Order().ToArray());
        int[] Kept(int layer, NodeLocation location) => kept.GetValueOrDefault((layer, location), []);
        var weights = model.state_dict();
        var edges = new List<CircuitEdge>();
        var matrices = new Dictionary<string, double[,]>();

        void Matrix(string parameter, int rowOffset, int layer, NodeLocation from, NodeLocation to)
        {
            int[] sources = Kept(layer, from), targets = Kept(layer, to);
            if (sources.Length == 0 || targets.Length == 0) return;
            double[,] w = matrices.TryGetValue(parameter, out var m) ? m : matrices[parameter] = Read(weights[parameter]);
            foreach (int target in targets)
                foreach (int source in sources)
                {
                    double value = w[rowOffset + target, source];
                    if (value != 0)
                        edges.Add(new CircuitEdge(new NodeId(layer, from, source).ToString(), new NodeId(layer, to, target).ToString(), Weight, value,
                            parameter, [rowOffset + target, source]));
                }
        }

        int heads = c.NHead * c.DHead;
        for (int layer = 0; layer < c.NLayer; layer++)
        {
            string h = $"transformer.h.{layer}";
            Matrix($"{h}.attn.c_attn.weight", 0, layer, NodeLocation.AttnActIn, NodeLocation.AttnQ);
            Matrix($"{h}.attn.c_attn.weight", heads, layer, NodeLocation.AttnActIn, NodeLocation.AttnK);
            Matrix($"{h}.attn.c_attn.weight", 2 * heads, layer, NodeLocation.AttnActIn, NodeLocation.AttnV);
            var keys = Kept(layer, NodeLocation.AttnK).ToHashSet();
            foreach (int j in Kept(layer, NodeLocation.AttnQ))
                foreach (int key in ScorePartners(j, c).Where(keys.Contains))
                    edges.Add(new CircuitEdge(new NodeId(layer, NodeLocation.AttnK, key).ToString(), new NodeId(layer, NodeLocation.AttnQ, j).ToString(),
                        AttentionScore, 1 / Math.Sqrt(c.DHead), null, null));
            Matrix($"{h}.attn.c_proj.weight", 0, layer, NodeLocation.AttnV, NodeLocation.AttnResidDelta);
            Matrix($"{h}.mlp.c_fc.weight", 0, layer, NodeLocation.MlpActIn, NodeLocation.MlpPostAct);
            Matrix($"{h}.mlp.c_proj.weight", 0, layer, NodeLocation.MlpPostAct, NodeLocation.MlpResidDelta);
        }

        // The residual stream: a write reaches every later read of its channel, scaled by the reading norm's weight.
        var norms = new Dictionary<string, double[]>();
        double[] Norm(string name) => norms.TryGetValue(name, out var v) ? v : norms[name] = Vector(weights[name]);
        for (int layer = 0; layer < c.NLayer; layer++)
            foreach (NodeLocation write in new[] { NodeLocation.AttnResidDelta, NodeLocation.MlpResidDelta })
                foreach (int channel in Kept(layer, write))
                    foreach (var (readLayer, read, norm) in LaterReads(layer, write, c.NLayer))
                    {
                        if (!Kept(readLayer, read).Contains(channel)) continue;
                        string parameter = $"transformer.h.{readLayer}.{norm}.weight";
                        double value = Norm(parameter)[channel];
                        if (value != 0)
                            edges.Add(new CircuitEdge(new NodeId(layer, write, channel).ToString(), new NodeId(readLayer, read, channel).ToString(), Residual,
                                value, parameter, [channel]));
                    }
        return edges;
    }

    static IEnumerable<(int Layer, NodeLocation Read, string Norm)> LaterReads(int layer, NodeLocation write, int nLayer)
    {
        if (write == NodeLocation.AttnResidDelta) yield return (layer, NodeLocation.MlpActIn, "ln_2");
        for (int later = layer + 1; later < nLayer; later++)
        {
            yield return (later, NodeLocation.AttnActIn, "ln_1");
            yield return (later, NodeLocation.MlpActIn, "ln_2");
        }
    }

    static double[,] Read(Tensor weight)
    {
        double[] flat = Vector(weight);
        int rows = (int)weight.shape[0], cols = (int)weight.shape[1];
        var result = new double[rows, cols];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    static double[] Vector(Tensor weight)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return weight.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }
}

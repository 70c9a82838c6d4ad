using SparseCircuits.Circuits;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Reports;

/// <summary>
/// The embedding tab: for each residual channel c, the tokens with the largest and the most
/// negative <c>wte.weight[token, c]</c> (what writes the channel) and <c>lm_head.weight[token, c]</c>
/// (what the channel promotes or suppresses). Exact zeros are left out (in a sparse embedding most
/// entries are zero and say nothing); ties go to the lower token id.
/// </summary>
public static class EmbeddingViewBuilder
{
    public const string Wte = "transformer.wte.weight", LmHead = "lm_head.weight";

    /// <param name="usedBy">per circuit id the nodes it keeps; a resid_delta or act_in node on channel c marks c as used</param>
    public static EmbeddingView Build(SparseGpt model, IReadOnlyList<string> tokenTexts, int perSide, IReadOnlyDictionary<string, IReadOnlyList<NodeId>> usedBy)
    {
        var parameters = model.DescribeParameters().ToDictionary(p => p.Name, p => p.Tensor);
        return Build(Read(parameters[Wte]), Read(parameters[LmHead]), model.Config.DModel, tokenTexts, perSide, ChannelUsers(usedBy));
    }

    /// <summary>From (vocab, d_model) row-major matrices.</summary>
    public static EmbeddingView Build(float[] wte, float[] lmHead, int dModel, IReadOnlyList<string> tokenTexts, int perSide,
        IReadOnlyDictionary<int, IReadOnlyList<string>> usersByChannel)
    {
        var channels = new List<EmbeddingChannel>(dModel);
        for (int c = 0; c < dModel; c++)
        {
            var (wteTop, wteBottom) = Extremes(wte, dModel, c, tokenTexts, perSide);
            var (lmTop, lmBottom) = Extremes(lmHead, dModel, c, tokenTexts, perSide);
            channels.Add(new EmbeddingChannel(c, wteTop, wteBottom, lmTop, lmBottom, usersByChannel.GetValueOrDefault(c, [])));
        }
        return new EmbeddingView(channels, perSide);
    }

    /// <summary>Per residual channel the circuits (in the order given) keeping a residual read or write on it.</summary>
    public static IReadOnlyDictionary<int, IReadOnlyList<string>> ChannelUsers(IReadOnlyDictionary<string, IReadOnlyList<NodeId>> nodesByCircuit)
    {
        var users = new Dictionary<int, List<string>>();
        foreach (var (circuit, nodes) in nodesByCircuit)
            foreach (int channel in nodes.Where(n => IsResidual(n.Location)).Select(n => n.Index).Distinct())
            {
                if (!users.TryGetValue(channel, out var list)) users[channel] = list = [];
                list.Add(circuit);
            }
        return users.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value);
    }

    static bool IsResidual(NodeLocation location) =>
        location is NodeLocation.AttnActIn or NodeLocation.AttnResidDelta or NodeLocation.MlpActIn or NodeLocation.MlpResidDelta;

    static (List<TokenWeight> Top, List<TokenWeight> Bottom) Extremes(float[] matrix, int dModel, int channel, IReadOnlyList<string> tokenTexts, int perSide)
    {
        int vocab = matrix.Length / dModel;
        var entries = Enumerable.Range(0, vocab).Select(t => (Token: t, Weight: matrix[t * dModel + channel])).Where(e => e.Weight != 0).ToList();
        List<TokenWeight> Take(IEnumerable<(int Token, float Weight)> ordered) =>
            ordered.Take(perSide).Select(e => new TokenWeight(tokenTexts[e.Token], ReportNumbers.Value(e.Weight))).ToList();
        return (Take(entries.Where(e => e.Weight > 0).OrderByDescending(e => e.Weight).ThenBy(e => e.Token)),
            Take(entries.Where(e => e.Weight < 0).OrderBy(e => e.Weight).ThenBy(e => e.Token)));
    }

    static float[] Read(Tensor weight)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return weight.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }
}

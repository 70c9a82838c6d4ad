using SparseCircuits.Core;

namespace SparseCircuits.Model;

/// <summary>
/// Names of the activations a <see cref="SparseGpt"/> exposes, as in the official release:
/// <c>{layer}.{site}</c> per block, plus <c>final_resid</c>. Values are recorded after AbsTopK.
/// Shapes (B = batch, T = tokens, H = n_head, D = d_head):
/// <list type="table">
/// <item><term>resid_in, resid_mid, attn.act_in, attn.resid_delta, mlp.act_in, mlp.resid_delta, final_resid</term><description>(B, T, d_model)</description></item>
/// <item><term>attn.q, attn.k, attn.v, attn.y</term><description>(B, T, H*D), heads side by side</description></item>
/// <item><term>attn.pattern</term><description>(B, H, T, T) softmax probabilities over real keys (with a sink, rows sum to less than 1)</description></item>
/// <item><term>mlp.post_act</term><description>(B, T, d_mlp)</description></item>
/// </list>
/// </summary>
public static class HookPoints
{
    public const string FinalResid = "final_resid";

    /// <summary>Per-layer sites in the order the forward pass reaches them.</summary>
    public static IReadOnlyList<string> LayerSites { get; } =
    [
        "resid_in", "attn.act_in", "attn.q", "attn.k", "attn.v", "attn.pattern", "attn.y", "attn.resid_delta",
        "resid_mid", "mlp.act_in", "mlp.post_act", "mlp.resid_delta",
    ];

    public static string ResidIn(int layer) => $"{layer}.resid_in";
    public static string AttnActIn(int layer) => $"{layer}.attn.act_in";
    public static string AttnQ(int layer) => $"{layer}.attn.q";
    public static string AttnK(int layer) => $"{layer}.attn.k";
    public static string AttnV(int layer) => $"{layer}.attn.v";
    public static string AttnPattern(int layer) => $"{layer}.attn.pattern";
    public static string AttnY(int layer) => $"{layer}.attn.y";
    public static string AttnResidDelta(int layer) => $"{layer}.attn.resid_delta";
    public static string ResidMid(int layer) => $"{layer}.resid_mid";
    public static string MlpActIn(int layer) => $"{layer}.mlp.act_in";
    public static string MlpPostAct(int layer) => $"{layer}.mlp.post_act";
    public static string MlpResidDelta(int layer) => $"{layer}.mlp.resid_delta";

    /// <summary>Every hook point of a model with <paramref name="nLayer"/> blocks, in forward order.</summary>
    public static IReadOnlyList<string> All(int nLayer)
    {
        var names = new List<string>(nLayer * LayerSites.Count + 1);
        for (int layer = 0; layer < nLayer; layer++)
            foreach (string site in LayerSites) names.Add($"{layer}.{site}");
        names.Add(FinalResid);
        return names;
    }

    /// <summary>Splits <c>"3.attn.q"</c> into (3, "attn.q"); <c>final_resid</c> gives layer -1.</summary>
    public static bool TryParse(string point, int nLayer, out int layer, out string site)
    {
        layer = -1;
        site = point;
        if (point == FinalResid) return true;
        int dot = point.IndexOf('.');
        if (dot <= 0 || !int.TryParse(point.AsSpan(0, dot), System.Globalization.NumberStyles.None, null, out layer)
            || layer >= nLayer || $"{layer}" != point[..dot])
        {
            layer = -1;
            return false;
        }
        site = point[(dot + 1)..];
        return LayerSites.Contains(site);
    }

    /// <summary>Channels along the last dimension of a point (T for attn.pattern).</summary>
    public static int Width(ModelConfig config, string point)
    {
        if (!TryParse(point, config.NLayer, out _, out string site)) throw Unknown(point, config.NLayer);
        return site switch
        {
            "attn.q" or "attn.k" or "attn.v" or "attn.y" => config.NHead * config.DHead,
            "mlp.post_act" => config.MlpWidth,
            "attn.pattern" => config.NCtx,
            _ => config.DModel,
        };
    }

    internal static SparseCircuitsException Unknown(string point, int nLayer) => new(
        $"unknown hook point '{point}': expected final_resid or L.site with L in 0..{nLayer - 1} and site one of {string.Join(", ", LayerSites)}");
}

/// <summary>The hook names of one block, built once so the forward pass never formats strings.</summary>
internal sealed class LayerHookNames(int layer)
{
    public readonly string ResidIn = HookPoints.ResidIn(layer);
    public readonly string AttnActIn = HookPoints.AttnActIn(layer);
    public readonly string AttnQ = HookPoints.AttnQ(layer);
    public readonly string AttnK = HookPoints.AttnK(layer);
    public readonly string AttnV = HookPoints.AttnV(layer);
    public readonly string AttnPattern = HookPoints.AttnPattern(layer);
    public readonly string AttnY = HookPoints.AttnY(layer);
    public readonly string AttnResidDelta = HookPoints.AttnResidDelta(layer);
    public readonly string ResidMid = HookPoints.ResidMid(layer);
    public readonly string MlpActIn = HookPoints.MlpActIn(layer);
    public readonly string MlpPostAct = HookPoints.MlpPostAct(layer);
    public readonly string MlpResidDelta = HookPoints.MlpResidDelta(layer);
}

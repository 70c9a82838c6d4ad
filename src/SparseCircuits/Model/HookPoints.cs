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

    // Each site once, in the order the forward pass reaches it: name, what its last dimension
    // spans, and which module records it. Everything else (the site list, widths, a layer's
    // point names, node locations, the viewer's legend) is derived from these twelve lines.
    public static HookSite ResidIn { get; } = new("resid_in", SiteWidth.DModel, "block", 0);
    public static HookSite AttnActIn { get; } = new("attn.act_in", SiteWidth.DModel, "attn", 1);
    public static HookSite AttnQ { get; } = new("attn.q", SiteWidth.Heads, "attn", 2);
    public static HookSite AttnK { get; } = new("attn.k", SiteWidth.Heads, "attn", 3);
    public static HookSite AttnV { get; } = new("attn.v", SiteWidth.Heads, "attn", 4);
    public static HookSite AttnPattern { get; } = new("attn.pattern", SiteWidth.Context, "attn", 5);
    public static HookSite AttnY { get; } = new("attn.y", SiteWidth.Heads, "attn", 6);
    public static HookSite AttnResidDelta { get; } = new("attn.resid_delta", SiteWidth.DModel, "attn", 7);
    public static HookSite ResidMid { get; } = new("resid_mid", SiteWidth.DModel, "block", 8);
    public static HookSite MlpActIn { get; } = new("mlp.act_in", SiteWidth.DModel, "mlp", 9);
    public static HookSite MlpPostAct { get; } = new("mlp.post_act", SiteWidth.Mlp, "mlp", 10);
    public static HookSite MlpResidDelta { get; } = new("mlp.resid_delta", SiteWidth.DModel, "mlp", 11);

    /// <summary>Per-layer sites in forward order (<see cref="HookSite.Index"/> is the position here).</summary>
    public static IReadOnlyList<HookSite> Sites { get; } =
        [ResidIn, AttnActIn, AttnQ, AttnK, AttnV, AttnPattern, AttnY, AttnResidDelta, ResidMid, MlpActIn, MlpPostAct, MlpResidDelta];

    /// <summary>The site names of <see cref="Sites"/>.</summary>
    public static IReadOnlyList<string> LayerSites { get; } = Sites.Select(s => s.Name).ToList();

    /// <summary>Every hook point of a model with <paramref name="nLayer"/> blocks, in forward order.</summary>
    public static IReadOnlyList<string> All(int nLayer)
    {
        var names = new List<string>(nLayer * Sites.Count + 1);
        for (int layer = 0; layer < nLayer; layer++)
            foreach (HookSite site in Sites) names.Add(site.At(layer));
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
        return site == FinalResid ? config.DModel : Sites.First(s => s.Name == site).WidthIn(config);
    }

    internal static SparseCircuitsException Unknown(string point, int nLayer) => new(
        $"unknown hook point '{point}': expected final_resid or L.site with L in 0..{nLayer - 1} and site one of {string.Join(", ", LayerSites)}");
}

/// <summary>What the last dimension of a hook site spans.</summary>
public enum SiteWidth
{
    /// <summary>The residual width d_model.</summary>
    DModel,
    /// <summary>All heads side by side, n_head * d_head.</summary>
    Heads,
    /// <summary>The MLP width d_mlp.</summary>
    Mlp,
    /// <summary>Keys: the context length n_ctx (attention patterns).</summary>
    Context,
}

/// <summary>One named activation of every block (see <see cref="HookPoints"/>).</summary>
/// <param name="Name">the official site name, e.g. <c>attn.q</c></param>
/// <param name="Owner">the module that records it: block, attn or mlp</param>
/// <param name="Index">position in <see cref="HookPoints.Sites"/></param>
public sealed record HookSite(string Name, SiteWidth Width, string Owner, int Index)
{
    /// <summary>The hook point of this site in <paramref name="layer"/>, e.g. <c>3.attn.q</c>.</summary>
    public string At(int layer) => $"{layer}.{Name}";

    /// <summary>Channels along the last dimension in a model of <paramref name="config"/>.</summary>
    public int WidthIn(ModelConfig config) => Width switch
    {
        SiteWidth.DModel => config.DModel,
        SiteWidth.Heads => config.NHead * config.DHead,
        SiteWidth.Mlp => config.MlpWidth,
        SiteWidth.Context => config.NCtx,
        _ => throw new ArgumentOutOfRangeException(nameof(Width), Width, null),
    };
}

/// <summary>The hook point names of one block, built once so the forward pass never formats strings.</summary>
internal sealed class LayerHookNames(int layer)
{
    readonly string[] _names = HookPoints.Sites.Select(s => s.At(layer)).ToArray();

    public string this[HookSite site] => _names[site.Index];
}

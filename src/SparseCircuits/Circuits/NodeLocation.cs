using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Circuits;

/// <summary>
/// The eight places per layer where pruning puts a node on every channel (docs/method.md, "Pruning to a
/// circuit"): residual reads right after each norm, q/k/v channels, MLP neurons, and the residual
/// writes at the end of each sublayer. Declared in forward order.
/// </summary>
public enum NodeLocation
{
    AttnActIn,
    AttnQ,
    AttnK,
    AttnV,
    AttnResidDelta,
    MlpActIn,
    MlpPostAct,
    MlpResidDelta,
}

/// <summary>Names, widths and hook points of <see cref="NodeLocation"/>s.</summary>
public static class NodeLocations
{
    public static IReadOnlyList<NodeLocation> All { get; } = Enum.GetValues<NodeLocation>();

    /// <summary>The hook site a location's nodes sit on.</summary>
    public static HookSite HookSite(this NodeLocation location) => location switch
    {
        NodeLocation.AttnActIn => HookPoints.AttnActIn,
        NodeLocation.AttnQ => HookPoints.AttnQ,
        NodeLocation.AttnK => HookPoints.AttnK,
        NodeLocation.AttnV => HookPoints.AttnV,
        NodeLocation.AttnResidDelta => HookPoints.AttnResidDelta,
        NodeLocation.MlpActIn => HookPoints.MlpActIn,
        NodeLocation.MlpPostAct => HookPoints.MlpPostAct,
        NodeLocation.MlpResidDelta => HookPoints.MlpResidDelta,
        _ => throw new ArgumentOutOfRangeException(nameof(location), location, null),
    };

    /// <summary>The official site name, e.g. <c>attn.q</c> (the hook point is <c>{layer}.{site}</c>).</summary>
    public static string Site(this NodeLocation location) => location.HookSite().Name;

    public static string Point(this NodeLocation location, int layer) => location.HookSite().At(layer);

    /// <summary>q, k and v channels belong to a head (channel / d_head).</summary>
    public static bool HasHead(this NodeLocation location) => location is NodeLocation.AttnQ or NodeLocation.AttnK or NodeLocation.AttnV;

    public static int Width(this NodeLocation location, ModelConfig config) => location.HookSite().WidthIn(config);

    public static NodeLocation Parse(string site)
    {
        foreach (NodeLocation location in All)
            if (location.Site() == site) return location;
        throw new SparseCircuitsException($"unknown node location '{site}'; expected one of {string.Join(", ", All.Select(l => l.Site()))}");
    }
}

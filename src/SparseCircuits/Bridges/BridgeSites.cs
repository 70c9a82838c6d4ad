using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Bridges;

/// <summary>
/// Where bridges sit (docs/bridges.md): on the residual stream before each sublayer's norm, i.e.
/// the hook points <c>L.resid_in</c> (read by attention) and <c>L.resid_mid</c> (read by the MLP).
/// </summary>
public static class BridgeSites
{
    /// <summary>The two residual sites of every block, in forward order.</summary>
    public static IReadOnlyList<HookSite> PerLayer { get; } = [HookPoints.ResidIn, HookPoints.ResidMid];

    /// <summary>Every bridge site of a model with <paramref name="nLayer"/> blocks, in forward order (<c>0.resid_in</c>, <c>0.resid_mid</c>, ...).</summary>
    public static IReadOnlyList<string> For(int nLayer) =>
        Enumerable.Range(0, nLayer).SelectMany(layer => PerLayer.Select(site => site.At(layer))).ToList();

    /// <summary>
    /// The bridge site a circuit node's channel is read from: <c>L.attn.act_in[c]</c> is channel c of
    /// <c>L.resid_in</c> after the norm, <c>L.mlp.act_in[c]</c> of <c>L.resid_mid</c>. Other nodes are
    /// not residual channels read by a sublayer: a user error.
    /// </summary>
    public static string Of(NodeId node) => node.Location switch
    {
        NodeLocation.AttnActIn => HookPoints.ResidIn.At(node.Layer),
        NodeLocation.MlpActIn => HookPoints.ResidMid.At(node.Layer),
        _ => throw new SparseCircuitsException(
            $"node {node} is not a residual channel read by a sublayer; bridges steer {NodeLocation.AttnActIn.Site()} or {NodeLocation.MlpActIn.Site()} nodes"),
    };
}

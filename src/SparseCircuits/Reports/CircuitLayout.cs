using SparseCircuits.Circuits;

namespace SparseCircuits.Reports;

/// <summary>
/// Where the circuit page draws each node: six rows per layer, top to bottom in forward order
/// (attn act_in, attn q/k/v, attn resid_delta, mlp act_in, mlp post_act, mlp resid_delta), all
/// six even when empty so layers line up between circuits. Row r of layer L has y = 6L + r. In a
/// row, nodes are spread evenly over x in (0, 1) by channel, except q/k/v: by head, then q, k, v,
/// then channel, so each head's channels sit together.
/// </summary>
public static class CircuitLayout
{
    public static IReadOnlyList<string> RowLabels { get; } =
        ["attn act_in", "attn q/k/v", "attn resid_delta", "mlp act_in", "mlp post_act", "mlp resid_delta"];

    public static IReadOnlyList<LayoutRow> Rows(int nLayer) =>
        Enumerable.Range(0, nLayer).SelectMany(layer => RowLabels.Select((label, r) => new LayoutRow(layer, $"L{layer} {label}", layer * RowLabels.Count + r))).ToList();

    /// <summary>The row (0..5) a location is drawn in within its layer.</summary>
    public static int RowOf(NodeLocation location) => location switch
    {
        NodeLocation.AttnActIn => 0,
        NodeLocation.AttnQ or NodeLocation.AttnK or NodeLocation.AttnV => 1,
        NodeLocation.AttnResidDelta => 2,
        NodeLocation.MlpActIn => 3,
        NodeLocation.MlpPostAct => 4,
        NodeLocation.MlpResidDelta => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(location), location, null),
    };

    /// <summary>(x, y) of every node.</summary>
    public static IReadOnlyDictionary<NodeId, (double X, double Y)> Place(IEnumerable<NodeId> nodes, int dHead)
    {
        var positions = new Dictionary<NodeId, (double X, double Y)>();
        foreach (var row in nodes.Distinct().GroupBy(n => (n.Layer, Row: RowOf(n.Location))))
        {
            var ordered = row.OrderBy(n => n.Head(dHead) ?? 0).ThenBy(n => n.Location).ThenBy(n => n.Index).ToList();
            double y = row.Key.Layer * RowLabels.Count + row.Key.Row;
            for (int i = 0; i < ordered.Count; i++) positions[ordered[i]] = ((i + 0.5) / ordered.Count, y);
        }
        return positions;
    }
}

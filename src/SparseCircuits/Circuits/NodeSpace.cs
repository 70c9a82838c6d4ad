using SparseCircuits.Model;

namespace SparseCircuits.Circuits;

/// <summary>One node: channel <paramref name="Index"/> of <paramref name="Location"/> in block <paramref name="Layer"/>.</summary>
public readonly record struct NodeId(int Layer, NodeLocation Location, int Index)
{
    /// <summary>The hook point the node lives at, e.g. <c>2.attn.q</c>.</summary>
    public string Point => Location.Point(Layer);

    /// <summary>Head of a q/k/v channel (index / d_head); null elsewhere.</summary>
    public int? Head(int dHead) => Location.HasHead() ? Index / dHead : null;

    /// <summary>The id used in circuit files: <c>2.attn.q[17]</c>.</summary>
    public override string ToString() => $"{Point}[{Index}]";

    /// <summary>Reads an id written by <see cref="ToString"/>, e.g. <c>2.attn.q[17]</c>; anything else is a user error.</summary>
    public static NodeId Parse(string text)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(\d+)\.([a-z_.]+)\[(\d+)\]$");
        if (!match.Success || !int.TryParse(match.Groups[1].Value, out int layer) || !int.TryParse(match.Groups[3].Value, out int index))
            throw new Core.SparseCircuitsException($"node '{text}' is not a node id like 2.mlp.act_in[17] (layer.site[channel])");
        return new NodeId(layer, NodeLocations.Parse(match.Groups[2].Value), index);
    }
}

/// <summary>The nodes at one hook point: a contiguous range of global node numbers.</summary>
public sealed record NodePoint(int Layer, NodeLocation Location, string Name, int Width, int Offset);

/// <summary>
/// Numbers every node of a model 0..<see cref="Count"/>-1: by layer, then location in forward
/// order (<see cref="NodeLocation"/>), then channel. Masks over all nodes are vectors in this order.
/// </summary>
public sealed class NodeSpace
{
    readonly Dictionary<(int, NodeLocation), NodePoint> _byKey = new();

    public ModelConfig Config { get; }
    public IReadOnlyList<NodePoint> Points { get; }
    public int Count { get; }

    public NodeSpace(ModelConfig config)
    {
        Config = config;
        var points = new List<NodePoint>();
        int offset = 0;
        for (int layer = 0; layer < config.NLayer; layer++)
            foreach (NodeLocation location in NodeLocations.All)
            {
                var point = new NodePoint(layer, location, location.Point(layer), location.Width(config), offset);
                points.Add(point);
                _byKey[(layer, location)] = point;
                offset += point.Width;
            }
        Points = points;
        Count = offset;
    }

    public NodePoint PointOf(int layer, NodeLocation location) => _byKey[(layer, location)];

    public int IndexOf(NodeId node)
    {
        NodePoint p = PointOf(node.Layer, node.Location);
        if (node.Index < 0 || node.Index >= p.Width) throw new ArgumentOutOfRangeException(nameof(node), $"{node} is outside 0..{p.Width - 1}");
        return p.Offset + node.Index;
    }

    public NodeId this[int index]
    {
        get
        {
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index));
            // Points are few (8 per layer): a linear scan is simpler than a search and fast enough.
            foreach (NodePoint p in Points)
                if (index < p.Offset + p.Width) return new NodeId(p.Layer, p.Location, index - p.Offset);
            throw new InvalidOperationException("unreachable");
        }
    }

    /// <summary>The nodes selected by <paramref name="keep"/> (length <see cref="Count"/>), in node order.</summary>
    public IReadOnlyList<NodeId> Selected(IReadOnlyList<bool> keep)
    {
        if (keep.Count != Count) throw new ArgumentException($"a node selection has {Count} entries; got {keep.Count}");
        var nodes = new List<NodeId>();
        foreach (NodePoint p in Points)
            for (int i = 0; i < p.Width; i++)
                if (keep[p.Offset + i]) nodes.Add(new NodeId(p.Layer, p.Location, i));
        return nodes;
    }

    /// <summary>A selection vector with exactly <paramref name="nodes"/> set.</summary>
    public bool[] Selection(IEnumerable<NodeId> nodes)
    {
        var keep = new bool[Count];
        foreach (NodeId n in nodes) keep[IndexOf(n)] = true;
        return keep;
    }
}

namespace SparseCircuits.Circuits;

/// <summary>
/// The learnable mask entries ("units") and the nodes each controls. Normally one unit per node;
/// with q/k tying, q channel j and k channel j of a layer share one unit. Rankings and the
/// discretisation work on units; circuit sizes are counted in nodes.
/// </summary>
public sealed class MaskUnits
{
    public NodeSpace Space { get; }
    public bool TieQk { get; }
    /// <summary>Unit of every node (length <see cref="NodeSpace.Count"/>).</summary>
    public int[] UnitOfNode { get; }
    public IReadOnlyList<int[]> NodesOfUnit { get; }
    public int Count => NodesOfUnit.Count;

    public MaskUnits(NodeSpace space, bool tieQk)
    {
        Space = space;
        TieQk = tieQk;
        UnitOfNode = new int[space.Count];
        var nodesOfUnit = new List<List<int>>();
        foreach (NodePoint p in space.Points)
            for (int i = 0; i < p.Width; i++)
            {
                int node = p.Offset + i;
                if (tieQk && p.Location == NodeLocation.AttnK)
                {
                    int q = space.PointOf(p.Layer, NodeLocation.AttnQ).Offset + i;
                    UnitOfNode[node] = UnitOfNode[q];
                    nodesOfUnit[UnitOfNode[q]].Add(node);
                }
                else
                {
                    UnitOfNode[node] = nodesOfUnit.Count;
                    nodesOfUnit.Add([node]);
                }
            }
        NodesOfUnit = nodesOfUnit.Select(l => l.ToArray()).ToList();
    }

    /// <summary>Units ordered by descending score, ties by unit number (a deterministic ranking).</summary>
    public static int[] Rank(IReadOnlyList<double> unitScores) =>
        Enumerable.Range(0, unitScores.Count).OrderByDescending(u => unitScores[u]).ThenBy(u => u).ToArray();

    /// <summary>Sums node scores into unit scores.</summary>
    public double[] UnitScores(IReadOnlyList<double> nodeScores)
    {
        var scores = new double[Count];
        for (int n = 0; n < nodeScores.Count; n++) scores[UnitOfNode[n]] += nodeScores[n];
        return scores;
    }

    /// <summary>The node selection of the first <paramref name="k"/> units of <paramref name="ranking"/>.</summary>
    public bool[] Keep(IReadOnlyList<int> ranking, int k)
    {
        var keep = new bool[Space.Count];
        for (int r = 0; r < k; r++)
            foreach (int node in NodesOfUnit[ranking[r]]) keep[node] = true;
        return keep;
    }
}

using SparseCircuits.Model;

namespace SparseCircuits.Circuits;

/// <summary>
/// A point of a circuit's loss-vs-size curve: the first <paramref name="Units"/> units of the
/// chosen ranking kept, their <paramref name="Nodes"/> and <paramref name="Edges"/>, and the task
/// loss of that node set on the validation split.
/// </summary>
public sealed record PrefixEdgePoint(int Units, int Nodes, int Edges, double Loss);

/// <summary>
/// A pruned circuit's loss-vs-edges curve: every evaluated prefix of the chosen ranking
/// (<see cref="Circuit.LossCurve"/>) and every smaller circuit the refinement accepted
/// (<see cref="Circuit.Refinement"/>), each with its paper edges. Files since the refinement store
/// the edges of every point. Older files stored only the chosen cut's nodes: there the prefixes no
/// larger than the cut (subsets of it, ordered by the stored unit scores) are recounted from the
/// model's weights, and larger prefixes are left out.
/// </summary>
public static class PrefixEdgeCurve
{
    public static IReadOnlyList<PrefixEdgePoint> Compute(SparseGpt model, Circuit circuit)
    {
        if (circuit.LossCurve.All(p => p.Edges is not null))
            return circuit.LossCurve.Select(p => new PrefixEdgePoint(p.Units, p.Nodes, p.Edges!.Value, p.Loss))
                .Concat((circuit.Refinement?.Steps ?? []).Select(s => new PrefixEdgePoint(s.Units, s.Nodes, s.Edges, s.Loss)))
                .ToList();
        return Recount(model, circuit);
    }

    static IReadOnlyList<PrefixEdgePoint> Recount(SparseGpt model, Circuit circuit)
    {
        var space = new NodeSpace(model.Config);
        var units = new MaskUnits(space, circuit.Hyperparameters.TieQk);
        var nodeIds = CircuitFile.NodeIds(circuit);
        // Unit score as the ranking saw it: learned masks store the unit's tau on each of its
        // nodes; attribution ranks units by the sum of their nodes' scores.
        var unitScore = new Dictionary<int, double>();
        for (int i = 0; i < nodeIds.Count; i++)
        {
            int unit = units.UnitOfNode[space.IndexOf(nodeIds[i])];
            double score = circuit.Nodes[i].Score;
            unitScore[unit] = circuit.Method == PruningMethod.Attribution ? unitScore.GetValueOrDefault(unit) + score : score;
        }
        int[] ranking = unitScore.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key).ToArray();
        var points = new List<PrefixEdgePoint>();
        foreach (LossCurvePoint p in circuit.LossCurve.Where(p => p.Units <= ranking.Length).OrderBy(p => p.Units))
        {
            var keep = ranking.Take(p.Units).SelectMany(u => units.NodesOfUnit[u]).Select(n => space[n]).ToList();
            points.Add(new PrefixEdgePoint(p.Units, keep.Count, CircuitGraph.PaperEdgeCount(CircuitGraph.Edges(model, keep)), p.Loss));
        }
        return points;
    }

    /// <summary>
    /// Fewest edges among the curve points whose loss is at most <paramref name="targetLoss"/>
    /// (null when none reaches it): the circuit size at a looser target, an upper bound since only
    /// the evaluated prefixes of one ranking are known.
    /// </summary>
    public static int? EdgesAt(IReadOnlyList<PrefixEdgePoint> curve, double targetLoss) =>
        curve.Where(p => p.Loss <= targetLoss).Select(p => (int?)p.Edges).Min();
}

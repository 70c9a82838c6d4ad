using SparseCircuits.Core;

namespace SparseCircuits.Circuits;

/// <summary>Reads and writes <c>circuit.json</c> (atomic write; a damaged or foreign file is a one-line user error).</summary>
public static class CircuitFile
{
    public const string FileName = "circuit.json";

    public static void Save(string path, Circuit circuit) => AtomicFile.WriteJson(path, circuit);

    public static Circuit Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        if (!File.Exists(path)) throw new SparseCircuitsException($"circuit file not found: {path}");
        Circuit circuit;
        try { circuit = Json.ReadFile<Circuit>(path); }
        catch (SparseCircuitsException e) { throw new SparseCircuitsException($"circuit file is damaged: {e.Message}"); }
        // Format 1 counted every listed edge; read it as format 2, which counts the paper's edges only.
        if (circuit is { Format: 1, Edges: not null } && circuit.EdgeCount == circuit.Edges.Count)
            circuit = circuit with { Format = Circuit.CurrentFormat, EdgeCount = CircuitGraph.PaperEdgeCount(circuit.Edges) };
        string? problem = Check(circuit);
        if (problem is not null) throw new SparseCircuitsException($"circuit file {path} is damaged: {problem}");
        return circuit;
    }

    /// <summary>The first inconsistency in a parsed circuit, or null.</summary>
    static string? Check(Circuit c)
    {
        if (c.Kind != Circuit.KindName) return $"kind is '{c.Kind}', expected '{Circuit.KindName}'";
        if (c.Format != Circuit.CurrentFormat) return $"format {c.Format}; this version reads format {Circuit.CurrentFormat}";
        if (c.Nodes is null || c.Edges is null || c.Model is null || c.Task is null || c.Validation is null || c.LossCurve is null || c.EdgeCountsByKind is null)
            return "a required section is null";
        if (c.NodeCount != c.Nodes.Count) return $"node_count is {c.NodeCount} but {c.Nodes.Count} nodes are listed";
        int weights = CircuitGraph.PaperEdgeCount(c.Edges.Where(e => e is not null));
        if (c.EdgeCount != weights) return $"edge_count is {c.EdgeCount} but {weights} weight edges are listed";
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (CircuitNode n in c.Nodes)
        {
            if (n is null) return "a node is null";
            NodeLocation location;
            try { location = NodeLocations.Parse(n.Location); }
            catch (SparseCircuitsException e) { return e.Message; }
            if (n.Layer < 0 || n.Layer >= c.Model.NLayer || n.Index < 0) return $"node {n.Id} is outside the model";
            // Past its layer's width a node would crash every consumer that indexes activations.
            if (n.Index >= WidthOf(location, c.Model)) return $"node {n.Id} is outside the model (index {n.Index} >= width {WidthOf(location, c.Model)})";
            string expected = new NodeId(n.Layer, location, n.Index).ToString();
            if (n.Id != expected) return $"node id '{n.Id}' does not match its fields ({expected})";
            if (!ids.Add(n.Id)) return $"node {n.Id} is listed twice";
        }
        foreach (CircuitEdge e in c.Edges)
        {
            if (e is null) return "an edge is null";
            if (!ids.Contains(e.Source)) return $"edge source {e.Source} is not a node of the circuit";
            if (!ids.Contains(e.Target)) return $"edge target {e.Target} is not a node of the circuit";
        }
        return null;
    }

    /// <summary>A location's width in the circuit's model, from the one definition of hook widths.</summary>
    static int WidthOf(NodeLocation location, CircuitModel model) =>
        location.Width(new Model.ModelConfig { VocabSize = 1, NLayer = model.NLayer, DModel = model.DModel, DHead = model.DHead, DMlp = model.DMlp });

    /// <summary>The circuit's nodes as ids (for re-running validation or drawing it).</summary>
    public static IReadOnlyList<NodeId> NodeIds(Circuit circuit) =>
        circuit.Nodes.Select(n => new NodeId(n.Layer, NodeLocations.Parse(n.Location), n.Index)).ToList();
}

namespace SparseCircuits.Pipeline;

/// <summary>
/// Where `circuits run` puts each stage's output under one directory, so every stage can find the
/// previous one and a rerun can tell which stages are already done.
/// </summary>
public sealed record PipelineLayout(string Root)
{
    public string Corpus => Path.Combine(Root, "corpus");
    public string Tokenizer => Path.Combine(Root, "tokenizer");
    public string Shards => Path.Combine(Root, "shards");
    /// <summary>The plain model the sparse one starts from (<see cref="SparseCircuits.Training.DenseStart"/>).</summary>
    public string DenseStart => Path.Combine(Root, "dense-start");
    public string Model => Path.Combine(Root, "model");
    public string Circuits => Path.Combine(Root, "circuits");
    public string Report => Path.Combine(Root, "report.html");
}

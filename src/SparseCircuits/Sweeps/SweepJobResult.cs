using SparseCircuits.Circuits;
using SparseCircuits.Core;

namespace SparseCircuits.Sweeps;

/// <summary>
/// <c>jobs/NAME/job.json</c>: what the frontier needs from one finished job (model size, loss, and
/// per task the circuit size and its prefix edge curve). Written last; its presence marks the job
/// done.
/// </summary>
public sealed record SweepJobResult
{
    public const string FileName = "job.json";
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;
    public required string Name { get; init; }
    /// <summary>SHA-256 of the job's settings (training config, pruning, tasks, prompts, tokenizer).</summary>
    public required string Fingerprint { get; init; }
    public required bool Dense { get; init; }
    public required int NLayer { get; init; }
    public required int DModel { get; init; }
    public required long Parameters { get; init; }
    /// <summary>Nonzero entries over all parameters of the checkpoint pruned.</summary>
    public required long Nonzeros { get; init; }
    /// <summary>The configured final density of the sparse matrices (1 for dense models).</summary>
    public required double WeightDensity { get; init; }
    public required long Step { get; init; }
    /// <summary>Validation loss (nats/token) of the checkpoint pruned (the best by val).</summary>
    public required double ValLoss { get; init; }
    public required double TargetLoss { get; init; }
    public required IReadOnlyList<SweepTaskResult> Tasks { get; init; }
    public required double Seconds { get; init; }
    public required string FinishedAt { get; init; }

    /// <summary>The job's result, or null when it has not finished; a damaged file is an error naming it.</summary>
    public static SweepJobResult? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        var result = Json.ReadFile<SweepJobResult>(path);
        if (result.Format != CurrentFormat) throw new SparseCircuitsException($"{path} has format {result.Format}; this version reads format {CurrentFormat}");
        if (result.Tasks is null) throw new SparseCircuitsException($"{path} is damaged: tasks is missing");
        return result;
    }
}

/// <summary>
/// One task of a job: the circuit's size at the sweep's target (when pruned), why there is none
/// otherwise, and the prefix edge curve (<see cref="PrefixEdgeCurve"/>). Nodes, edges and curve are
/// those of repeat 0; with several pruning repeats <see cref="RepeatEdges"/> holds every repeat's
/// edges (repeat 0 first), and the task counts as pruned only when every repeat reached the target.
/// </summary>
public sealed record SweepTaskResult(string Task, bool Pruned, int? Nodes, int? Edges, string? Reason, IReadOnlyList<PrefixEdgePoint> Curve,
    IReadOnlyList<int>? RepeatEdges = null)
{
    /// <summary>Edges of repeat <paramref name="repeat"/>, or with null the geometric mean over the repeats; null when not pruned.</summary>
    public double? EdgesOf(int? repeat = null)
    {
        if (!Pruned || Edges is null) return null;
        if (RepeatEdges is null or { Count: 0 }) return repeat is null or 0 ? Edges : null;
        if (repeat is int r) return r < RepeatEdges.Count ? RepeatEdges[r] : null;
        return GeometricMean.Of(RepeatEdges.Select(e => (double)e));
    }

    public int Repeats => RepeatEdges?.Count ?? 1;
}

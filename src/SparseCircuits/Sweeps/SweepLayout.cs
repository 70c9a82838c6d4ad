using SparseCircuits.Pipeline;

namespace SparseCircuits.Sweeps;

/// <summary>
/// Where a sweep keeps its files: the shared data stages as in <see cref="PipelineLayout"/>, the
/// spec and manifest, and one folder per job (<c>jobs/NAME/model</c>, <c>circuits</c>, <c>job.json</c>).
/// </summary>
public sealed record SweepLayout(string Root)
{
    public PipelineLayout Data => new(Root);
    public string Shards => Data.Shards;
    public string SpecFile => Path.Combine(Root, "sweep.json");
    public string ManifestFile => Path.Combine(Root, "manifest.json");
    /// <summary>Held open (exclusively) while a sweep runs in this directory.</summary>
    public string LockFile => Path.Combine(Root, "sweep.lock");
    public string Jobs => Path.Combine(Root, "jobs");
    public string Job(string name) => Path.Combine(Jobs, name);
    public string JobModel(string name) => Path.Combine(Job(name), "model");
    public string JobCircuits(string name) => Path.Combine(Job(name), "circuits");
    /// <summary>The circuits of pruning repeat <paramref name="repeat"/>: repeat 0 in <c>circuits</c>, the others in <c>circuits-rN</c>.</summary>
    public string JobCircuits(string name, int repeat) => repeat == 0 ? JobCircuits(name) : Path.Combine(Job(name), $"circuits-r{repeat}");
    /// <summary>Every circuits folder of the job, whatever number of repeats wrote them.</summary>
    public IEnumerable<string> AllJobCircuits(string name) => Directory.Exists(Job(name))
        ? Directory.EnumerateDirectories(Job(name)).Where(d => d == JobCircuits(name) || Path.GetFileName(d).StartsWith("circuits-r", StringComparison.Ordinal))
        : [];
    /// <summary>Written when a job starts: its settings fingerprint, so a changed spec cannot silently mix with old results.</summary>
    public string JobStarted(string name) => Path.Combine(Job(name), "job-started.json");
    /// <summary>Written last, atomically: the job is finished.</summary>
    public string JobResult(string name) => Path.Combine(Job(name), SweepJobResult.FileName);
    public string JobLog(string name) => Path.Combine(Job(name), "job.log");
}

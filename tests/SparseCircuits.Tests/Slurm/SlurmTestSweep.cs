using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Slurm;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;
using SparseCircuits.Tests.Sweeps;

namespace SparseCircuits.Tests.Slurm;

/// <summary>
/// Sweep directories in the states a cluster leaves them in, without training anything: the
/// submission and status logic reads only which files exist.
/// </summary>
static class SlurmTestSweep
{
    /// <summary>The tiny sweep spec with <paramref name="models"/> models (sparse, dense, sparse-2, dense-2, ...).</summary>
    public static SweepSpec Spec(TempDir dir, int models = 2)
    {
        SweepSpec tiny = SweepRunnerTests.TinySpec(dir);
        return tiny with
        {
            Models = Enumerable.Range(0, models).Select(i => tiny.Models[i % 2] with { Name = tiny.Models[i % 2].Name + (i < 2 ? "" : $"-{i / 2 + 1}") }).ToList(),
        };
    }

    public static SlurmSubmitRequest Request(TempDir dir, SweepSpec spec, SlurmOptions? options = null, bool dryRun = false) => new()
    {
        OutDir = dir["sweep"], Spec = spec, Options = options ?? new SlurmOptions(), Circuits = ["/opt/circuits/circuits"],
        CommandLine = "circuits sweep --scheduler slurm (test)", DryRun = dryRun,
    };

    /// <summary>What the data job leaves behind, as far as status is concerned: the shard manifest.</summary>
    public static void PrepareData(SweepLayout layout) => AtomicFile.WriteAllText(Path.Combine(layout.Shards, ShardManifest.FileName), "{}");

    public static void Start(SweepLayout layout, string job) => AtomicFile.WriteJson(layout.JobStarted(job), new { Format = 1, Name = job, Fingerprint = "f" });

    /// <summary>A finished job: its job.json, what marks a job done (no job-started.json, whose fingerprint a rerun would check).</summary>
    public static void Finish(SweepLayout layout, string job) =>
        AtomicFile.WriteJson(layout.JobResult(job), new SweepJobResult
        {
            Name = job, Fingerprint = "f", Dense = false, NLayer = 1, DModel = 8, Parameters = 100, Nonzeros = 50, WeightDensity = 0.5, Step = 6,
            ValLoss = 5, TargetLoss = 5, Tasks = [], Seconds = 1, FinishedAt = "2026-01-01T00:00:00Z",
        });
}

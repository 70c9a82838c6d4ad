using SparseCircuits.Core;

namespace SparseCircuits.Sweeps;

/// <summary>
/// <c>manifest.json</c> of a sweep: what it was made from (spec hash, seed, shared data, tool
/// versions), every session that worked on it, and every submission of its jobs to a cluster
/// scheduler.
/// </summary>
/// <param name="TokenizerHash">null until the shared data is prepared (a sweep submitted to a scheduler whose data job has not run yet)</param>
/// <param name="ShardManifestSha256">null until the shared data is prepared, as <paramref name="TokenizerHash"/></param>
/// <param name="Submissions">submissions to a cluster scheduler, oldest first; null in sweeps never submitted</param>
public sealed record SweepManifest(
    int Format,
    ToolVersions Versions,
    string SpecSha256,
    ulong Seed,
    string? TokenizerHash,
    string? ShardManifestSha256,
    IReadOnlyList<SweepSession> Sessions,
    IReadOnlyList<SweepSubmission>? Submissions = null)
{
    public const int CurrentFormat = 1;

    /// <summary>The manifest of the sweep in <paramref name="layout"/>, or null when nothing has run or been submitted there yet.</summary>
    public static SweepManifest? TryLoad(SweepLayout layout) =>
        File.Exists(layout.ManifestFile) ? Json.ReadFile<SweepManifest>(layout.ManifestFile) : null;

    /// <summary>
    /// Appends <paramref name="submission"/> to the manifest (created when the sweep has none yet,
    /// its data hashes left null until the data job records its session). The caller holds the
    /// sweep's lock, so no session is recorded in between.
    /// </summary>
    public static void AddSubmission(SweepLayout layout, string specJson, ulong seed, SweepSubmission submission)
    {
        SweepManifest manifest = TryLoad(layout) ?? new SweepManifest(CurrentFormat, ToolVersions.Current(),
            Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(specJson)), seed, null, null, []);
        AtomicFile.WriteJson(layout.ManifestFile, manifest with { Submissions = [.. manifest.Submissions ?? [], submission] });
    }
}

/// <summary>One `circuits sweep` invocation: when, how (command line, parallel processes, threads each).</summary>
public sealed record SweepSession(string Started, string CommandLine, int Parallel, int ThreadsPerJob);

/// <summary>
/// One submission of the sweep to a cluster scheduler (docs/sweeps.md, "On a Slurm cluster"): the
/// scheduler's ids of the data job, of the job array (each sweep job with its task index) and of
/// the frontier job. A resubmission of failed jobs may leave out the data job.
/// </summary>
public sealed record SweepSubmission(string Submitted, string Scheduler, string CommandLine, string? DataJobId, string? ArrayJobId,
    IReadOnlyList<SweepSubmittedJob> ArrayTasks, string FrontierJobId)
{
    /// <summary>The scheduler's id of the array task that runs <paramref name="job"/> (<c>ARRAY_TASK</c>), or null when this submission does not run it.</summary>
    public string? TaskId(string job) =>
        ArrayJobId is not null && ArrayTasks.FirstOrDefault(t => t.Job == job) is { } task ? $"{ArrayJobId}_{task.Task}" : null;
}

/// <summary>A sweep job run by a job array: its name and its array task index (its position in the spec's models).</summary>
public sealed record SweepSubmittedJob(string Job, int Task);

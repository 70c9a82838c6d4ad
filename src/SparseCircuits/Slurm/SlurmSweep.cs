using System.Globalization;
using SparseCircuits.Core;
using SparseCircuits.Sweeps;

namespace SparseCircuits.Slurm;

/// <summary>What to submit: the sweep, the resources of its jobs, and how the nodes start `circuits`.</summary>
public sealed record SlurmSubmitRequest
{
    public required string OutDir { get; init; }
    /// <summary>The spec; null = the one the directory already holds (sweep.json).</summary>
    public SweepSpec? Spec { get; init; }
    public SlurmOptions Options { get; init; } = new();
    /// <summary>The command that starts `circuits` on a node: this process's executable (or dotnet and the dll), by absolute path.</summary>
    public required IReadOnlyList<string> Circuits { get; init; }
    public string CommandLine { get; init; } = "";
    /// <summary>Only write the scripts and show the sbatch commands; Slurm is not asked anything (unless the directory has queued jobs to protect).</summary>
    public bool DryRun { get; init; }
}

/// <summary>
/// What a submission did: the scripts written, the sweep jobs in its job array, the sbatch
/// commands (as shell text; run by Slurm's sbatch, or only shown with --dry-run), and the ids it
/// recorded; <see cref="Nothing"/> says why nothing was submitted.
/// </summary>
public sealed record SlurmSubmitResult(string Root, IReadOnlyList<string> Scripts, IReadOnlyList<string> ArrayJobs, string Commands,
    SweepSubmission? Submission, IReadOnlyList<string> Cancelled, string? Nothing);

/// <summary>
/// Runs a sweep on a Slurm cluster (docs/sweeps.md, "On a Slurm cluster"): writes the scripts
/// (<see cref="SlurmScripts"/>), submits the data job, a job array of the unfinished jobs and the
/// frontier job chained with afterok, and records their ids in the sweep's manifest; resubmits
/// the jobs that failed. Everything a job does is the existing resumable `circuits sweep`, so
/// running a job again only finishes what is missing.
/// </summary>
public static class SlurmSweep
{
    const string Scheduler = "slurm";

    public static SlurmSubmitResult Submit(SlurmSubmitRequest request, ISlurmClient slurm)
    {
        SlurmOptions options = request.Options.Validate();
        var layout = new SweepLayout(OutputPath.CheckDirectory(request.OutDir));
        var files = new SlurmFiles(layout);
        SweepSpec spec = request.Spec ?? (File.Exists(layout.SpecFile) ? SweepSpec.Load(layout.SpecFile)
            : File.Exists(files.Spec) ? SweepSpec.Load(files.Spec) // submitted before, its data job never ran
            : throw new SparseCircuitsException($"{layout.Root} holds no sweep (no sweep.json); give a spec with --spec FILE|PRESET"));
        var toRun = SweepRunner.JobsToRun(layout.Root, spec); // refuses a spec the finished jobs contradict, before anything is written
        var names = spec.Models.Select(m => m.Name).ToList();
        SlurmScriptSet scripts = SlurmScripts.Build(files, names, options, request.Circuits);
        var tasks = toRun.Select(job => new SweepSubmittedJob(job, names.IndexOf(job))).ToList();
        if (tasks.Count == 0)
            return new SlurmSubmitResult(layout.Root, [], [], "", null, [],
                $"every job of {layout.Root} is finished with this spec; nothing to submit (`circuits frontier {layout.Root}` writes the frontier)");
        List<SbatchStep> steps =
        [
            new("data", files.DataScript, [], [], Hold: true),
            new("jobs", files.JobsScript, [$"--array={ArrayIndices(tasks)}"], ["data"]),
            new("frontier", files.FrontierScript, [], ["jobs"]),
        ];
        var submissions = SweepManifest.TryLoad(layout)?.Submissions ?? [];
        if (!request.DryRun)
        {
            slurm.CheckInstalled();
            CheckPartitions(options, slurm);
        }
        // Queued jobs read slurm/spec.json when they start: it must not change under them, even in a dry run.
        CheckNothingQueued(layout, submissions, slurm);
        string specJson = spec.ToJson() + "\n";
        if (request.DryRun)
        {
            WriteScripts(files, specJson, scripts);
            return new SlurmSubmitResult(layout.Root, ScriptFiles(files), toRun, SbatchChain.Render(steps), null, [], null);
        }
        SweepSubmission submission;
        using (SweepRunner.Lock(layout)) // the data job records its session in the same manifest
        {
            WriteScripts(files, specJson, scripts);
            submission = SubmitAndRecord(layout, specJson, spec.Seed, steps, tasks, request.CommandLine, slurm);
        }
        Release(submission, slurm);
        return new SlurmSubmitResult(layout.Root, ScriptFiles(files), toRun, SbatchChain.Render(steps), submission, [], null);
    }

    /// <summary>
    /// Submits again every job of the sweep that is neither finished nor queued (failed, cancelled,
    /// timed out, or stuck behind a failed dependency), with the data job when the shared data is
    /// missing and a new frontier job after them. Stuck jobs and the old frontier job are cancelled.
    /// The scripts in DIR/slurm are reused; <paramref name="overrides"/> (unset = keep) go on the
    /// sbatch command line, e.g. a longer --time for jobs that timed out.
    /// </summary>
    public static SlurmSubmitResult ResubmitFailed(string sweepDir, SlurmOptions overrides, bool dryRun, string commandLine, ISlurmClient slurm)
    {
        overrides.Validate();
        string root = Path.GetFullPath(sweepDir);
        if (!Directory.Exists(root)) throw new SparseCircuitsException($"sweep directory not found: {root}");
        var layout = new SweepLayout(OutputPath.CheckDirectory(root, "--resubmit-failed"));
        var files = new SlurmFiles(layout);
        var submissions = SweepManifest.TryLoad(layout)?.Submissions ?? [];
        if (submissions.Count == 0)
            throw new SparseCircuitsException($"{root} was never submitted to Slurm (no submission in manifest.json); submit it with `circuits sweep --out {root} --scheduler slurm`");
        foreach (string script in ScriptFiles(files).Append(files.Spec))
            if (!File.Exists(script)) throw new SparseCircuitsException($"{script} is missing; submit the sweep again with `circuits sweep --out {root} --scheduler slurm`");
        slurm.CheckInstalled();
        CheckPartitions(overrides, slurm);
        SlurmSweepStatus status = SlurmSweepStatus.Read(root, slurm, requireQueue: true);

        static bool Again(SlurmJobStatus s) => s.Phase is SweepJobPhase.Failed or SweepJobPhase.Stuck or SweepJobPhase.NotSubmitted;
        SweepSpec spec = SweepSpec.Load(files.Spec); // the spec the scripts were written for: task i is its i-th model
        var names = spec.Models.Select(m => m.Name).ToList();
        var tasks = status.Jobs.Where(Again).Select(j => new SweepSubmittedJob(j.Name, names.IndexOf(j.Name))).ToList();
        bool data = status.Data.Phase is SweepJobPhase.Failed or SweepJobPhase.Stuck;
        if (tasks.Count == 0 && !data && status.Frontier.Phase is not (SweepJobPhase.Failed or SweepJobPhase.Stuck))
        {
            int finished = status.Jobs.Count(j => j.Phase == SweepJobPhase.Finished);
            return new SlurmSubmitResult(root, [], [], "", null, [],
                $"nothing to resubmit: {finished} of {status.Jobs.Count} jobs finished, the others queued or running; frontier job {Describe(status.Frontier)}");
        }
        // Stuck jobs never start; the old frontier job waits on tasks that failed (or on nothing new).
        var cancel = status.Jobs.Where(j => j.Phase == SweepJobPhase.Stuck).Select(j => j.SlurmId!).ToList();
        if (status.Frontier.Phase is SweepJobPhase.Queued or SweepJobPhase.Stuck) cancel.Add(status.Frontier.SlurmId!);
        var stillRunning = status.Jobs.Where(j => j.Phase is SweepJobPhase.Running or SweepJobPhase.Queued).Select(j => j.SlurmId!).ToList();

        var steps = new List<SbatchStep>();
        if (data) steps.Add(new("data", files.DataScript, overrides.SbatchOptions(), [], Hold: true));
        if (tasks.Count > 0) steps.Add(new("jobs", files.JobsScript, [$"--array={ArrayIndices(tasks)}", .. overrides.SbatchOptions()], data ? ["data"] : []));
        // The new array waits for the data job, so the frontier waits for the last step submitted and the tasks still running.
        steps.Add(new("frontier", files.FrontierScript, overrides.SbatchOptions(frontier: true),
            [.. steps.Select(s => s.Name).TakeLast(1), .. stillRunning]));
        var again = tasks.Select(t => t.Job).ToList();
        if (dryRun) return new SlurmSubmitResult(root, [], again, SbatchChain.Render(steps), null, cancel, null);

        SweepSubmission submission;
        using (SweepRunner.Lock(layout))
        {
            if (cancel.Count > 0) slurm.Cancel(cancel);
            submission = SubmitAndRecord(layout, File.ReadAllText(files.Spec), spec.Seed, steps, tasks, commandLine, slurm);
        }
        Release(submission, slurm);
        return new SlurmSubmitResult(root, [], again, SbatchChain.Render(steps), submission, cancel, null);
    }

    /// <summary>Submits the steps and records their ids in the manifest; the data job stays held until <see cref="Release"/>.</summary>
    static SweepSubmission SubmitAndRecord(SweepLayout layout, string specJson, ulong seed, IReadOnlyList<SbatchStep> steps,
        IReadOnlyList<SweepSubmittedJob> tasks, string commandLine, ISlurmClient slurm)
    {
        var ids = SbatchChain.Submit(steps, slurm);
        var submission = new SweepSubmission(DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture), Scheduler, commandLine,
            ids.GetValueOrDefault("data"), ids.GetValueOrDefault("jobs"), ids.ContainsKey("jobs") ? tasks : [], ids["frontier"]);
        try
        {
            SweepManifest.AddSubmission(layout, specJson, seed, submission);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SparseCircuitsException)
        {
            slurm.Cancel(ids.Values.ToList()); // jobs nobody can find again must not run
            throw new SparseCircuitsException($"could not record the submitted jobs in {layout.ManifestFile} ({e.Message}); they were cancelled");
        }
        return submission;
    }

    /// <summary>
    /// Lets the held data job start, once its ids are recorded and the sweep's lock is given back:
    /// the data job takes that lock and records its session in the manifest.
    /// </summary>
    static void Release(SweepSubmission submission, ISlurmClient slurm)
    {
        if (submission.DataJobId is not string data) return;
        try { slurm.Release(data); }
        catch (SlurmUnavailableException e)
        {
            throw new SparseCircuitsException($"the jobs are submitted and recorded, but the data job {data} is still held ({e.Message}); release it with `scontrol release {data}`");
        }
    }

    /// <summary>Refuses a new submission while jobs of an earlier one are still queued or running: the same job must never run twice at once.</summary>
    static void CheckNothingQueued(SweepLayout layout, IReadOnlyList<SweepSubmission> submissions, ISlurmClient slurm)
    {
        if (submissions.Count == 0) return;
        IReadOnlyDictionary<string, SlurmQueueEntry> queue;
        try { queue = slurm.Queue(); }
        catch (SlurmUnavailableException e)
        {
            throw new SparseCircuitsException($"{layout.Root} was submitted to Slurm before and its jobs may still be queued, but the queue cannot be read: {e.Message}");
        }
        var ids = submissions.SelectMany(s => new[] { s.DataJobId, s.ArrayJobId, s.FrontierJobId }).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var queued = queue.Keys.Where(k => ids.Contains(k.Split('_')[0])).Order(StringComparer.Ordinal).ToList();
        if (queued.Count > 0)
            throw new SparseCircuitsException($"{layout.Root} has Slurm jobs queued or running ({string.Join(", ", queued.Take(5))}{(queued.Count > 5 ? ", ..." : "")}); " +
                $"see `circuits sweep status {layout.Root}`, wait for them or scancel them; `circuits sweep --resubmit-failed {layout.Root}` resubmits failed jobs");
    }

    static void CheckPartitions(SlurmOptions options, ISlurmClient slurm)
    {
        if (options.Partition is null) return;
        var known = slurm.Partitions();
        foreach (string partition in options.Partition.Split(','))
            if (!known.Contains(partition))
                throw new SparseCircuitsException($"unknown partition '{partition}': the cluster has {string.Join(", ", known.Order(StringComparer.Ordinal))}");
    }

    static void WriteScripts(SlurmFiles files, string specJson, SlurmScriptSet scripts)
    {
        AtomicFile.WriteAllText(files.Spec, specJson);
        SlurmScripts.Write(files, scripts);
    }

    static IReadOnlyList<string> ScriptFiles(SlurmFiles files) => [files.DataScript, files.JobsScript, files.FrontierScript];

    /// <summary>sbatch's --array list: ascending indices, runs of consecutive ones as ranges ("0-3,5").</summary>
    public static string ArrayIndices(IEnumerable<SweepSubmittedJob> tasks)
    {
        var indices = tasks.Select(t => t.Task).Distinct().Order().ToList();
        var parts = new List<string>();
        for (int i = 0; i < indices.Count;)
        {
            int j = i;
            while (j + 1 < indices.Count && indices[j + 1] == indices[j] + 1) j++;
            parts.Add(j == i ? $"{indices[i]}" : $"{indices[i]}-{indices[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    static string Describe(SlurmJobStatus s) => s.Phase switch
    {
        SweepJobPhase.Finished => "finished",
        _ => $"{s.Phase.ToString().ToLowerInvariant()}{(s.SlurmId is null ? "" : $" ({s.SlurmId})")}",
    };
}

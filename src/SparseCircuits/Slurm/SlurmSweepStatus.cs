using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Frontier;
using SparseCircuits.Sweeps;

namespace SparseCircuits.Slurm;

/// <summary>Where a job of a sweep stands, from its files joined with the Slurm queue.</summary>
public enum SweepJobPhase
{
    /// <summary>Its output is there (job.json; the shards; the frontier's table).</summary>
    Finished,
    Running,
    /// <summary>In the queue, waiting (for resources, for the jobs before it, or held).</summary>
    Queued,
    /// <summary>In the queue but waiting on a job that failed: it never starts unless resubmitted.</summary>
    Stuck,
    /// <summary>Submitted, no longer in the queue, and its output is missing.</summary>
    Failed,
    /// <summary>Not finished and no submission ran it.</summary>
    NotSubmitted,
    /// <summary>Not finished, and the queue could not be read to tell running from failed.</summary>
    Unknown,
}

/// <summary>
/// One row of <c>circuits sweep status</c>: what the sweep directory says (<paramref name="Files"/>),
/// the Slurm job or array task that runs it with its state (from squeue, or sacct once it left
/// the queue), and the log Slurm wrote.
/// </summary>
public sealed record SlurmJobStatus(string Name, string Files, SweepJobPhase Phase, string? SlurmId, string? SlurmState, string? Log);

/// <summary>
/// The state of every job of a sweep (docs/sweeps.md, "On a Slurm cluster"): the shared data job,
/// each sweep job and the frontier job, from the sweep directory (finished job.json, started,
/// not started) joined with squeue and, when Slurm keeps accounting, sacct.
/// </summary>
public sealed record SlurmSweepStatus(string Root, SlurmJobStatus Data, IReadOnlyList<SlurmJobStatus> Jobs, SlurmJobStatus Frontier,
    IReadOnlyList<string> Notes)
{
    /// <param name="slurm">null: the directory's state only</param>
    /// <param name="requireQueue">throw when the queue cannot be read instead of noting it (resubmission must know what still runs)</param>
    public static SlurmSweepStatus Read(string sweepDir, ISlurmClient? slurm, bool requireQueue = false)
    {
        var layout = new SweepLayout(Path.GetFullPath(sweepDir));
        if (!Directory.Exists(layout.Root)) throw new SparseCircuitsException($"sweep directory not found: {layout.Root}");
        var files = new SlurmFiles(layout);
        var submissions = SweepManifest.TryLoad(layout)?.Submissions ?? [];
        SweepSpec spec = Spec(layout, files, submissions.Count > 0);
        var notes = new List<string>();

        IReadOnlyDictionary<string, SlurmQueueEntry>? queue = null;
        IReadOnlyDictionary<string, string>? accounting = null;
        if (submissions.Count == 0) notes.Add("no Slurm submission is recorded in manifest.json: states from the sweep directory only");
        else if (slurm is null) notes.Add("states from the sweep directory only");
        else
        {
            try { queue = slurm.Queue(); }
            catch (SlurmUnavailableException e) when (!requireQueue)
            {
                notes.Add($"{e.Message}; states from the sweep directory only");
            }
            if (queue is not null)
            {
                var ids = submissions.SelectMany(s => new[] { s.DataJobId, s.ArrayJobId, s.FrontierJobId }).OfType<string>().Distinct().ToList();
                SlurmAccounting records = slurm.Accounting(ids);
                accounting = records.States;
                if (records.Unavailable is not null)
                    notes.Add($"{records.Unavailable}: jobs that left the queue count as finished when their output is there, else as failed");
            }
        }

        SlurmJobStatus Row(string name, string filesState, bool finished, string? id, string? log)
        {
            if (id is null) return new(name, filesState, finished ? SweepJobPhase.Finished : SweepJobPhase.NotSubmitted, null, null, null);
            if (queue is not null && queue.TryGetValue(id, out SlurmQueueEntry? entry))
            {
                SweepJobPhase active = entry.Stuck ? SweepJobPhase.Stuck : entry.State is "RUNNING" or "COMPLETING" ? SweepJobPhase.Running : SweepJobPhase.Queued;
                string state = entry.Reason is "" or "None" ? entry.State : $"{entry.State} ({entry.Reason})";
                return new(name, filesState, active, id, state, log);
            }
            string? recorded = accounting?.GetValueOrDefault(id);
            if (finished) return new(name, filesState, SweepJobPhase.Finished, id, recorded, log);
            if (queue is null) return new(name, filesState, SweepJobPhase.Unknown, id, null, log);
            return new(name, filesState, SweepJobPhase.Failed, id, recorded ?? "not in the queue", log);
        }
        string? Existing(string path) => File.Exists(path) ? path : null;

        bool prepared = File.Exists(Path.Combine(layout.Shards, ShardManifest.FileName));
        string? dataId = submissions.LastOrDefault(s => s.DataJobId is not null)?.DataJobId;
        var data = Row("data", prepared ? "prepared" : "not prepared", prepared, dataId, dataId is null ? null : Existing(files.Log("data", dataId)));

        var jobs = spec.Models.Select(model =>
        {
            string name = model.Name;
            bool finished = File.Exists(layout.JobResult(name));
            string state = finished ? "finished" : File.Exists(layout.JobStarted(name)) ? "started" : "not started";
            string? task = submissions.Select(s => s.TaskId(name)).LastOrDefault(t => t is not null);
            return Row(name, state, finished, task, task is null ? null : Existing(files.TaskLog(task)));
        }).ToList();

        bool written = File.Exists(Path.Combine(SweepFrontier.DefaultDir(layout.Root), SweepFrontier.TableFile));
        string? frontierId = submissions.LastOrDefault()?.FrontierJobId;
        var frontier = Row("frontier", written ? "written" : "not written", written, frontierId,
            frontierId is null ? null : Existing(files.Log("frontier", frontierId)));
        return new SlurmSweepStatus(layout.Root, data, jobs, frontier, notes);
    }

    /// <summary>Every row, data job first, frontier job last.</summary>
    public IEnumerable<SlurmJobStatus> All => Jobs.Prepend(Data).Append(Frontier);

    /// <summary>
    /// The spec whose jobs are listed: with a Slurm submission, the one its jobs run (slurm/spec.json),
    /// which its data job stores as sweep.json only when it runs; else the stored sweep.json.
    /// </summary>
    static SweepSpec Spec(SweepLayout layout, SlurmFiles files, bool submitted)
    {
        if (submitted && File.Exists(files.Spec)) return SweepSpec.Load(files.Spec);
        if (File.Exists(layout.SpecFile)) return SweepSpec.Load(layout.SpecFile);
        if (File.Exists(files.Spec)) return SweepSpec.Load(files.Spec);
        throw new SparseCircuitsException($"{layout.Root} is not a sweep (no sweep.json); start one with `circuits sweep`");
    }
}

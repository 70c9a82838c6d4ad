using SparseCircuits.Slurm;

namespace SparseCircuits.Tests.Slurm;

/// <summary>
/// An <see cref="ISlurmClient"/> that records what it is asked and answers from fields a test sets:
/// job ids count up from 100, the queue and accounting are what the test puts there.
/// </summary>
sealed class FakeSlurm : ISlurmClient
{
    public sealed record Submission(string Id, string Script, IReadOnlyList<string> Options)
    {
        public string? Option(string name) => Options.FirstOrDefault(o => o.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];
        public bool Held => Options.Contains("--hold");
    }

    int _next = 100;
    public List<Submission> Submitted { get; } = [];
    public List<string> Released { get; } = [];
    public List<string> Cancelled { get; } = [];
    public HashSet<string> PartitionNames { get; } = ["debug", "long"];
    public Dictionary<string, SlurmQueueEntry> Queued { get; } = [];
    /// <summary>sacct's answer; null = accounting disabled, as on a cluster without slurmdbd.</summary>
    public Dictionary<string, string>? Records { get; set; }
    /// <summary>A command that is not installed: every call then fails as on a machine without Slurm.</summary>
    public string? Missing { get; set; }
    /// <summary>Called on release with the job id, to check what was written before the held job could start.</summary>
    public Action<string>? OnRelease { get; set; }
    /// <summary>The n-th sbatch call (0-based) fails, as sbatch does for a rejected job.</summary>
    public int FailSubmission { get; set; } = -1;
    /// <summary>Every call, in order, e.g. "sbatch jobs.sbatch", "scancel 104".</summary>
    public List<string> Calls { get; } = [];

    public void CheckInstalled()
    {
        if (Missing is not null) throw new SlurmUnavailableException($"{Missing} not found on PATH");
    }

    public string Submit(string script, IReadOnlyList<string> options)
    {
        Calls.Add($"sbatch {Path.GetFileName(script)}");
        if (Submitted.Count == FailSubmission) throw new SlurmUnavailableException("sbatch failed (exit 1): Batch job submission failed: Invalid account");
        var submission = new Submission((_next++).ToString(System.Globalization.CultureInfo.InvariantCulture), script, options);
        Submitted.Add(submission);
        return submission.Id;
    }

    public void Release(string jobId)
    {
        Calls.Add($"scontrol release {jobId}");
        OnRelease?.Invoke(jobId);
        Released.Add(jobId);
    }

    public void Cancel(IReadOnlyList<string> jobIds)
    {
        Calls.Add($"scancel {string.Join(' ', jobIds)}");
        Cancelled.AddRange(jobIds);
    }

    public IReadOnlySet<string> Partitions() => PartitionNames;

    public IReadOnlyDictionary<string, SlurmQueueEntry> Queue() =>
        Missing is null ? Queued : throw new SlurmUnavailableException($"{Missing} not found on PATH");

    public SlurmAccounting Accounting(IReadOnlyList<string> jobIds) =>
        Records is null ? new SlurmAccounting(null, "sacct: Slurm accounting storage is disabled") : new SlurmAccounting(Records, null);

    /// <summary>The latest submission of the script named <paramref name="name"/>.</summary>
    public Submission Script(string name) => Submitted.Last(s => Path.GetFileName(s.Script) == name);
}

namespace SparseCircuits.Slurm;

/// <summary>
/// The Slurm commands a sweep uses (sbatch, scontrol release, scancel, sinfo, squeue, sacct),
/// behind one seam so the submission and status logic can be tested without a cluster.
/// </summary>
public interface ISlurmClient
{
    /// <summary>Throws a <see cref="SlurmUnavailableException"/> naming the first command a submission needs that is not installed here.</summary>
    void CheckInstalled();

    /// <summary>Runs <c>sbatch --parsable OPTIONS SCRIPT</c> and returns the new job's id.</summary>
    string Submit(string script, IReadOnlyList<string> options);

    /// <summary>Releases a job submitted with <c>--hold</c>.</summary>
    void Release(string jobId);

    /// <summary>Cancels jobs or array tasks (<c>ARRAY_TASK</c>).</summary>
    void Cancel(IReadOnlyList<string> jobIds);

    /// <summary>The cluster's partition names.</summary>
    IReadOnlySet<string> Partitions();

    /// <summary>This user's jobs in the queue (pending, running, ...), one entry per array task, by id (<c>JOB</c> or <c>ARRAY_TASK</c>).</summary>
    IReadOnlyDictionary<string, SlurmQueueEntry> Queue();

    /// <summary>Final states of <paramref name="jobIds"/> (and their array tasks) from Slurm's accounting, or why there are none.</summary>
    SlurmAccounting Accounting(IReadOnlyList<string> jobIds);
}

/// <summary>A job in the queue: its state (<c>PENDING</c>, <c>RUNNING</c>, ...) and squeue's reason (<c>Dependency</c>, <c>Resources</c>, ...).</summary>
public sealed record SlurmQueueEntry(string State, string Reason)
{
    /// <summary>Pending on a dependency that failed: Slurm keeps such jobs queued forever unless they are cancelled.</summary>
    public bool Stuck => State == "PENDING" && Reason == "DependencyNeverSatisfied";
}

/// <summary>States by job id (<c>COMPLETED</c>, <c>FAILED</c>, <c>TIMEOUT</c>, ...), or null states and the reason accounting is unavailable.</summary>
public sealed record SlurmAccounting(IReadOnlyDictionary<string, string>? States, string? Unavailable);

/// <summary>A Slurm command is not installed or failed.</summary>
public sealed class SlurmUnavailableException(string message) : Core.SparseCircuitsException(message);

using SparseCircuits.Sweeps;

namespace SparseCircuits.Slurm;

/// <summary>
/// Where a sweep submitted to Slurm keeps its scheduler files: <c>DIR/slurm/</c> holds the spec the
/// jobs run, the three sbatch scripts and the jobs' logs.
/// </summary>
public sealed record SlurmFiles(SweepLayout Sweep)
{
    public string Root => Path.Combine(Sweep.Root, "slurm");
    /// <summary>The spec every job of the submission runs (<c>--spec</c>), so editing the original file cannot change jobs already queued.</summary>
    public string Spec => Path.Combine(Root, "spec.json");
    public string DataScript => Path.Combine(Root, "data.sbatch");
    public string JobsScript => Path.Combine(Root, "jobs.sbatch");
    public string FrontierScript => Path.Combine(Root, "frontier.sbatch");
    public string Logs => Path.Combine(Root, "logs");

    /// <summary>sbatch's <c>--output</c> pattern of the data or frontier job (<c>%j</c> = its job id).</summary>
    public string LogPattern(string kind) => Path.Combine(Logs, $"{kind}-%j.out");
    /// <summary>sbatch's <c>--output</c> pattern of the array tasks (<c>%A_%a</c> = array id and task index, the task's id).</summary>
    public string TaskLogPattern => Path.Combine(Logs, "job-%A_%a.out");

    /// <summary>The output file of the data or frontier job <paramref name="jobId"/>.</summary>
    public string Log(string kind, string jobId) => LogPattern(kind).Replace("%j", jobId, StringComparison.Ordinal);
    /// <summary>The output file of array task <paramref name="taskId"/> (<c>ARRAY_TASK</c>).</summary>
    public string TaskLog(string taskId) => TaskLogPattern.Replace("%A_%a", taskId, StringComparison.Ordinal);
}

using System.Globalization;
using System.Text.RegularExpressions;
using SparseCircuits.Core;

namespace SparseCircuits.Slurm;

/// <summary>
/// The resources every job of a sweep asks Slurm for (docs/sweeps.md, "On a Slurm cluster"). Unset
/// fields are left to the cluster's defaults; in a resubmission they keep what the scripts say.
/// </summary>
public sealed partial record SlurmOptions
{
    /// <summary>CPUs per job when not given: libtorch's threads of one model; more speed up little at these sizes.</summary>
    public const int DefaultCpusPerJob = 4;

    /// <summary>Partition (or comma-separated partitions) to queue in; null = the cluster's default partition.</summary>
    public string? Partition { get; init; }
    /// <summary>Time limit per job in a format sbatch accepts (<c>HH:MM:SS</c>, <c>D-HH:MM:SS</c>, minutes); null = the partition's default.</summary>
    public string? Time { get; init; }
    /// <summary>CPUs per job (sbatch --cpus-per-task), also the job's libtorch threads; null = <see cref="DefaultCpusPerJob"/>.</summary>
    public int? CpusPerJob { get; init; }
    /// <summary>Memory per job in sbatch's format (<c>16G</c>, <c>4000M</c>); null = the cluster's default.</summary>
    public string? Mem { get; init; }
    /// <summary>Account charged for the jobs; null = the user's default account.</summary>
    public string? Account { get; init; }

    /// <summary>Returns these options, or throws naming the first bad one. Values end up in sbatch directives, so they are checked, not quoted.</summary>
    public SlurmOptions Validate()
    {
        if (Partition is not null && !NameList().IsMatch(Partition))
            throw new SparseCircuitsException($"--partition must be a partition name or a comma-separated list of them (got '{Partition}')");
        if (Time is not null && !TimeLimit().IsMatch(Time))
            throw new SparseCircuitsException($"--time must be a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (got '{Time}')");
        if (CpusPerJob is < 1) throw new SparseCircuitsException($"--cpus-per-job must be >= 1 (got {CpusPerJob})");
        if (Mem is not null && !Memory().IsMatch(Mem))
            throw new SparseCircuitsException($"--mem must be a whole number with an optional unit K, M, G or T, e.g. 16G (got '{Mem}')");
        if (Account is not null && !Name().IsMatch(Account)) throw new SparseCircuitsException($"--account must be an account name (got '{Account}')");
        return this;
    }

    /// <summary>
    /// The sbatch options these settings give a job (<c>--partition=P</c>, ...), unset ones left
    /// out. The frontier job needs one CPU whatever the jobs get.
    /// </summary>
    public IReadOnlyList<string> SbatchOptions(bool frontier = false)
    {
        var options = new List<string>();
        if (Partition is not null) options.Add($"--partition={Partition}");
        if (Account is not null) options.Add($"--account={Account}");
        if (Time is not null) options.Add($"--time={Time}");
        if (!frontier && CpusPerJob is int cpus) options.Add($"--cpus-per-task={cpus.ToString(CultureInfo.InvariantCulture)}");
        if (Mem is not null) options.Add($"--mem={Mem}");
        return options;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$")]
    private static partial Regex NameList();

    [GeneratedRegex(@"^[A-Za-z0-9_.-]+$")]
    private static partial Regex Name();

    [GeneratedRegex(@"^(\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2})$")]
    private static partial Regex TimeLimit();

    [GeneratedRegex(@"^\d+[KMGT]?$")]
    private static partial Regex Memory();
}

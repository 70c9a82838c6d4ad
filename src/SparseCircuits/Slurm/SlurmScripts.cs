using System.Globalization;
using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Slurm;

/// <summary>The three sbatch scripts of a sweep, as text.</summary>
public sealed record SlurmScriptSet(string Data, string Jobs, string Frontier);

/// <summary>
/// Writes the sbatch scripts of a sweep (docs/sweeps.md, "On a Slurm cluster"): the shared data
/// job, a job array with one task per sweep job, and the frontier job. Each runs the `circuits`
/// command the submitting process ran (recorded by absolute path), so the jobs use the same build;
/// the work itself is the existing `circuits sweep` / `circuits frontier`, which resume and skip
/// what is finished.
/// </summary>
public static class SlurmScripts
{
    /// <param name="jobs">the sweep's jobs in the spec's order: array task i runs jobs[i]</param>
    /// <param name="circuits">the command that starts `circuits` on a node (an executable, or dotnet and the dll)</param>
    public static SlurmScriptSet Build(SlurmFiles files, IReadOnlyList<string> jobs, SlurmOptions options, IReadOnlyList<string> circuits)
    {
        CheckDirectivePath(files.Sweep.Root);
        if (jobs.Count == 0) throw new ArgumentException("a sweep has at least one job", nameof(jobs));
        if (circuits.Count == 0) throw new ArgumentException("the circuits command is empty", nameof(circuits));
        string name = JobName(files.Sweep.Root);
        int cpus = options.CpusPerJob ?? SlurmOptions.DefaultCpusPerJob;
        var jobOptions = (options with { CpusPerJob = cpus }).SbatchOptions();
        string sweep = $"--spec {Quote(files.Spec)} --out {Quote(files.Sweep.Root)}";
        string threads = $"--threads \"${{SLURM_CPUS_PER_TASK:-{cpus.ToString(CultureInfo.InvariantCulture)}}}\" --quiet";

        string data = Script(
            ["The sweep's shared data (corpus, tokenizer, shards), built once before its jobs. It also checks the spec",
             "against the jobs already finished and stores it as sweep.json."],
            [$"--job-name={name}-data", $"--output={files.LogPattern("data")}", .. jobOptions], files, circuits,
            [], $"sweep {sweep} --prepare-only {threads}");
        string array = Script(
            ["One array task per sweep job: task i runs the spec's i-th model (train, mean cache, circuits, job.json).",
             "A task run again resumes its job where it stopped and skips it when it is finished."],
            [$"--job-name={name}-jobs", $"--output={files.TaskLogPattern}", $"--array=0-{jobs.Count - 1}", .. jobOptions], files, circuits,
            [$"jobs=({string.Join(' ', jobs.Select(Quote))})"], $"sweep {sweep} --job \"${{jobs[$SLURM_ARRAY_TASK_ID]}}\" {threads}");
        string frontier = Script(
            ["The frontier of the finished sweep: table, plots and sparse-vs-dense ratio in frontier/."],
            [$"--job-name={name}-frontier", $"--output={files.LogPattern("frontier")}", .. options.SbatchOptions(frontier: true), "--cpus-per-task=1"],
            files, circuits, [], $"frontier {Quote(files.Sweep.Root)} --threads 1 --quiet");
        return new SlurmScriptSet(data, array, frontier);
    }

    /// <summary>Writes the scripts (each atomically) and creates the logs folder sbatch writes into.</summary>
    public static void Write(SlurmFiles files, SlurmScriptSet scripts)
    {
        AtomicFile.WriteAllText(files.DataScript, scripts.Data);
        AtomicFile.WriteAllText(files.JobsScript, scripts.Jobs);
        AtomicFile.WriteAllText(files.FrontierScript, scripts.Frontier);
        Directory.CreateDirectory(files.Logs); // sbatch does not create the folder of --output
    }

    static string Script(string[] purpose, IEnumerable<string> directives, SlurmFiles files, IReadOnlyList<string> circuits, string[] setup, string arguments)
    {
        var text = new StringBuilder("#!/bin/bash\n");
        foreach (string line in purpose) text.Append("# ").Append(line).Append('\n');
        text.Append("# Written by `circuits sweep --scheduler slurm` (docs/sweeps.md, \"On a Slurm cluster\").\n");
        foreach (string directive in directives.Append($"--chdir={files.Sweep.Root}")) text.Append("#SBATCH ").Append(directive).Append('\n');
        text.Append("set -euo pipefail\n");
        text.Append("# The circuits command that submitted the sweep; every node must reach it at this path.\n");
        text.Append($"circuits=({string.Join(' ', circuits.Select(Quote))})\n");
        foreach (string line in setup) text.Append(line).Append('\n');
        text.Append($"exec \"${{circuits[@]}}\" {arguments}\n");
        return text.ToString();
    }

    /// <summary>A word for bash: single-quoted, with embedded single quotes closed, escaped and reopened.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", @"'\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// The sweep directory goes into #SBATCH lines (--output, --chdir), which sbatch splits at
    /// white space and where % starts a file-name pattern, so such paths are refused up front.
    /// </summary>
    static void CheckDirectivePath(string root)
    {
        if (root.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '%' or '"' or '\'' or '\\'))
            throw new SparseCircuitsException($"--out {root}: a sweep run by Slurm needs a directory path without spaces, quotes, backslashes or % " +
                "(sbatch directives cannot hold them)");
    }

    /// <summary>Slurm job names of the sweep: "sweep-" and the directory's name, reduced to safe characters.</summary>
    static string JobName(string root) =>
        "sweep-" + string.Concat(Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar)).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

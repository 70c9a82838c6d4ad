using System.Diagnostics;

namespace SparseCircuits.Slurm;

/// <summary>
/// <see cref="ISlurmClient"/> through Slurm's own commands, found on PATH (the login node's client
/// tools; SLURM_CONF and the rest of the environment pass through). A missing command or a
/// command that fails is a <see cref="SlurmUnavailableException"/> quoting Slurm's message.
/// </summary>
public sealed class SlurmCommands : ISlurmClient
{
    readonly string _searchPath;
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <param name="searchPath">the directories to find the commands in (PATH's syntax); null = this process's PATH</param>
    public SlurmCommands(string? searchPath = null) => _searchPath = searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "";

    public void CheckInstalled()
    {
        foreach (string command in new[] { "sbatch", "scontrol", "scancel", "sinfo", "squeue" })
            if (Find(command) is null) throw NotFound(command);
    }

    public string Submit(string script, IReadOnlyList<string> options)
    {
        string output = Run("sbatch", ["--parsable", .. options, script]);
        // --parsable prints "ID" or "ID;CLUSTER".
        string id = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()?.Split(';')[0] ?? "";
        if (id.Length == 0 || !id.All(char.IsAsciiDigit)) throw new SlurmUnavailableException($"sbatch printed no job id (got '{output.Trim()}')");
        return id;
    }

    public void Release(string jobId) => Run("scontrol", ["release", jobId]);

    public void Cancel(IReadOnlyList<string> jobIds)
    {
        if (jobIds.Count > 0) Run("scancel", jobIds);
    }

    public IReadOnlySet<string> Partitions() =>
        Run("sinfo", ["--noheader", "--format=%R"]).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, SlurmQueueEntry> Queue()
    {
        var queue = new Dictionary<string, SlurmQueueEntry>(StringComparer.Ordinal);
        // --array: one line per array task, pending ones included (else they are folded into 12_[3-5]).
        // --user rather than --me, which Slurm before 20.11 lacks.
        string[] arguments = ["--noheader", "--array", $"--user={Environment.UserName}", "--format=%i|%T|%r"];
        foreach (string line in Run("squeue", arguments).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = line.Trim().Split('|');
            if (fields.Length == 3) queue[fields[0]] = new SlurmQueueEntry(fields[1], fields[2]);
        }
        return queue;
    }

    public SlurmAccounting Accounting(IReadOnlyList<string> jobIds)
    {
        if (jobIds.Count == 0) return new SlurmAccounting(new Dictionary<string, string>(), null);
        if (Find("sacct") is null) return new SlurmAccounting(null, "sacct not found on PATH");
        var (exit, output, error) = Execute("sacct", ["--noheader", "--parsable2", "--allocations", $"--jobs={string.Join(',', jobIds)}", "--format=JobID,State"]);
        // A cluster without accounting storage answers "Slurm accounting storage is disabled".
        if (exit != 0) return new SlurmAccounting(null, $"sacct: {FirstLine("sacct", error, output)}");
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = line.Trim().Split('|');
            if (fields.Length == 2) states[fields[0]] = fields[1].Split(' ')[0]; // "CANCELLED by 1000"
        }
        return new SlurmAccounting(states, null);
    }

    string Run(string command, IReadOnlyList<string> arguments)
    {
        var (exit, output, error) = Execute(command, arguments);
        if (exit != 0) throw new SlurmUnavailableException($"{command} failed (exit {exit}): {FirstLine(command, error, output)}");
        return output;
    }

    (int Exit, string Output, string Error) Execute(string command, IReadOnlyList<string> arguments)
    {
        string path = Find(command) ?? throw NotFound(command);
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new SlurmUnavailableException($"could not start {path}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new SlurmUnavailableException($"{command} did not answer within {Timeout.TotalMinutes:0} minutes; is the cluster's controller up?");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    static SlurmUnavailableException NotFound(string command) => new(
        $"{command} not found on PATH: a sweep on a Slurm cluster needs Slurm's commands; run this on a login node of the cluster" +
        (command == "sbatch" ? ", or add --dry-run to only write the scripts" : ""));

    string? Find(string command) =>
        _searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, command))
            .FirstOrDefault(p => File.Exists(p) && (OperatingSystem.IsWindows()
                || (File.GetUnixFileMode(p) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0));

    /// <summary>Slurm's message without its "sbatch: error: " prefix; an error line before any warning.</summary>
    static string FirstLine(string command, string error, string output)
    {
        var lines = (error + "\n" + output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string line = lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.FirstOrDefault() ?? "no message";
        string prefix = $"{command}: error: ";
        return line.StartsWith(prefix, StringComparison.Ordinal) ? line[prefix.Length..] : line;
    }
}

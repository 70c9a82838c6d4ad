using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace SparseCircuits.Tests.Support;

/// <summary>
/// A private one-node Slurm cluster on this machine, for the end-to-end test of sweeps on Slurm:
/// its own munged, slurmctld and slurmd, configured in a fresh directory (own ports, key, state,
/// pid and log files), without cgroups (proctrack/linuxproc, task/none), the node sized by
/// `slurmd -C`. Slurm's commands reach it through SLURM_CONF (<see cref="Environment"/>); nothing
/// of the machine's own Slurm or munge configuration is used or changed. test.sh installs Debian's
/// slurm-wlm and munge when they are missing. Dispose cancels the jobs and stops the daemons; a
/// cluster left by a test host that died is stopped by the next <see cref="Start"/>. A daemon that
/// cannot start is an exception carrying its log, never a skipped test.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LocalSlurmCluster : IDisposable
{
    public const string Partition = "sctest";
    static readonly string Base = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sparse-circuits-slurm");
    static readonly string[] Daemons = ["slurmd", "slurmctld", "munged"]; // stopped in this order
    static readonly string[] Commands = ["mungekey", "munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel", "scontrol"];

    public string Dir { get; }
    public string ConfigFile => System.IO.Path.Combine(Dir, "slurm.conf");
    /// <summary>What a process needs to talk to this cluster with Slurm's commands.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = ConfigFile };

    LocalSlurmCluster(string dir) => Dir = dir;

    public static LocalSlurmCluster Start()
    {
        var missing = Commands.Where(c => Which(c) is null).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"Slurm is not installed here ({string.Join(", ", missing)} missing): `bash test.sh` installs Debian's slurm-wlm and munge");
        StopStale();
        // munged wants its socket's folder searchable by everyone, and its key readable only by its user.
        Directory.CreateDirectory(Base, Mode755);
        string dir = System.IO.Path.Combine(Base, $"{System.Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(dir, Mode755);
        File.WriteAllText(System.IO.Path.Combine(dir, "owner"), $"{System.Environment.ProcessId}");
        var cluster = new LocalSlurmCluster(dir);
        try
        {
            cluster.StartDaemons();
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    void StartDaemons()
    {
        string P(string name) => System.IO.Path.Combine(Dir, name);
        Must("mungekey", "--create", $"--keyfile={P("munge.key")}");
        Must("munged", $"--socket={P("munge.sock")}", $"--key-file={P("munge.key")}", $"--pid-file={P("munged.pid")}",
            $"--log-file={P("munged.log")}", $"--seed-file={P("munged.seed")}");
        // The node as slurmd sees this machine: "NodeName=host CPUs=2 ... RealMemory=24105".
        string node = Must("slurmd", "-C").Split('\n')[0].Trim();
        if (!node.StartsWith("NodeName=", StringComparison.Ordinal)) throw new InvalidOperationException($"slurmd -C printed no node line: {node}");
        string host = node.Split(' ')[0]["NodeName=".Length..];
        Directory.CreateDirectory(P("state"));
        Directory.CreateDirectory(P("spool"));
        File.WriteAllText(ConfigFile, $"""
            # A private one-node cluster for the tests (tests/SparseCircuits.Tests/Support/LocalSlurmCluster.cs).
            ClusterName=sctest
            SlurmctldHost={host}(127.0.0.1)
            SlurmctldPort={FreePort()}
            SlurmdPort={FreePort()}
            SlurmUser={System.Environment.UserName}
            SlurmdUser={System.Environment.UserName}
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket={P("munge.sock")}
            StateSaveLocation={P("state")}
            SlurmdSpoolDir={P("spool")}
            SlurmctldPidFile={P("slurmctld.pid")}
            SlurmdPidFile={P("slurmd.pid")}
            SlurmctldLogFile={P("slurmctld.log")}
            SlurmdLogFile={P("slurmd.log")}
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU_Memory
            AccountingStorageType=accounting_storage/none
            JobAcctGatherType=jobacct_gather/none
            JobCompType=jobcomp/none
            MpiDefault=none
            MailProg=/bin/true
            ReturnToService=2
            KillWait=5
            {node} NodeAddr=127.0.0.1 State=UNKNOWN
            PartitionName={Partition} Nodes={host} Default=YES MaxTime=INFINITE State=UP

            """);
        Must("slurmctld", "-f", ConfigFile);
        Must("slurmd", "-f", ConfigFile);
        // Up when the node reports idle to the controller.
        var clock = Stopwatch.StartNew();
        string state = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var sinfo = Run("sinfo", "--noheader", "--format=%T");
            state = (sinfo.Output + sinfo.Error).Trim();
            if (sinfo.Exit == 0 && state == "idle") return;
            Thread.Sleep(500);
        }
        throw new InvalidOperationException($"the local Slurm cluster did not come up in 60 s (sinfo: '{state}')\n{Logs()}");
    }

    /// <summary>Runs one of Slurm's commands against this cluster.</summary>
    public (int Exit, string Output, string Error) Run(string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(Which(command) ?? command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["SLURM_CONF"] = ConfigFile;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            return (-1, output.Result, $"{command} did not finish in 60 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    string Must(string command, params string[] arguments)
    {
        var (exit, output, error) = Run(command, arguments);
        if (exit != 0) throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed (exit {exit}): {error.Trim()} {output.Trim()}\n{Logs()}");
        return output;
    }

    /// <summary>
    /// Waits until none of the queue's jobs can still run (the queue is empty, or what remains waits on
    /// a dependency that failed) and returns what remains ("ID|STATE|REASON").
    /// </summary>
    public IReadOnlyList<string> WaitUntilSettled(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (exit, output, error) = Run("squeue", "--noheader", "--array", "--format=%i|%T|%r");
            if (exit != 0) throw new InvalidOperationException($"squeue failed: {error}\n{Logs()}");
            var jobs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (jobs.All(j => j.EndsWith("|PENDING|DependencyNeverSatisfied", StringComparison.Ordinal))) return jobs;
            if (clock.Elapsed > timeout) throw new TimeoutException($"Slurm jobs still queued after {timeout.TotalMinutes:0} min: {string.Join(", ", jobs)}\n{Logs()}");
            Thread.Sleep(1000);
        }
    }

    /// <summary>The tail of every daemon log, for failure messages.</summary>
    public string Logs() => string.Join("\n", new[] { "munged.log", "slurmctld.log", "slurmd.log" }
        .Select(f => System.IO.Path.Combine(Dir, f)).Where(File.Exists)
        .Select(f => $"--- {System.IO.Path.GetFileName(f)}\n{string.Join('\n', File.ReadLines(f).TakeLast(15))}"));

    public void Dispose() => Stop(Dir);

    /// <summary>Cancels the cluster's jobs, stops its daemons (by their pid files, each checked to be this cluster's) and removes its directory.</summary>
    static void Stop(string dir)
    {
        string config = System.IO.Path.Combine(dir, "slurm.conf");
        if (Alive(dir, "slurmctld") is not null && File.Exists(config))
        {
            var cluster = new LocalSlurmCluster(dir);
            cluster.Run("scancel", $"--user={System.Environment.UserName}");
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(30) && cluster.Run("squeue", "--noheader").Output.Trim().Length > 0) Thread.Sleep(500);
        }
        foreach (string daemon in Daemons)
        {
            if (Alive(dir, daemon) is not int pid) continue;
            using var process = Process.GetProcessById(pid);
            Signal(pid, "TERM");
            if (!process.WaitForExit(10_000)) process.Kill();
            process.WaitForExit(5_000);
        }
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Clusters whose test host is gone (a crashed or killed test run): stopped, so a new run starts clean.</summary>
    static void StopStale()
    {
        if (!Directory.Exists(Base)) return;
        foreach (string dir in Directory.GetDirectories(Base))
        {
            string owner = System.IO.Path.Combine(dir, "owner");
            if (File.Exists(owner) && int.TryParse(File.ReadAllText(owner), out int pid) && Directory.Exists($"/proc/{pid}")) continue;
            Stop(dir);
        }
    }

    /// <summary>The daemon's pid when its pid file names a live process started for this directory.</summary>
    static int? Alive(string dir, string daemon)
    {
        string pidFile = System.IO.Path.Combine(dir, $"{daemon}.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)) return null;
        string cmdline = $"/proc/{pid}/cmdline";
        try
        {
            return File.Exists(cmdline) && File.ReadAllText(cmdline).Contains(dir, StringComparison.Ordinal) ? pid : null;
        }
        catch (IOException) { return null; } // exited while we looked
    }

    static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The command's path on PATH or in the sbin folders, where Debian puts the daemons.</summary>
    static string? Which(string command) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"])
            .Where(d => d.Length > 0).Select(d => System.IO.Path.Combine(d, command)).FirstOrDefault(File.Exists);

    const UnixFileMode Mode755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
        UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
}

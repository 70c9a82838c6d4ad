using System.Diagnostics;

namespace SparseCircuits.Tests.Support;

/// <summary>
/// Runs the real `circuits` executable (built next to the tests) as a child process, so tests see
/// exactly what a user sees: exit code, stdout, stderr.
/// </summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    /// <summary>Runs with extra environment variables (e.g. SLURM_CONF of a test cluster, or a PATH without some command).</summary>
    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(args, asForegroundJob: false, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"circuits {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the executable with redirected output, for tests that talk to it while it runs (serve).</summary>
    public static Process Start(params string[] args) => Start(args, asForegroundJob: false, new Dictionary<string, string>());

    /// <summary>
    /// Like a command typed at a terminal: SIGINT (Ctrl+C) reaches it. A test run started in the
    /// background (`cmd &` in a script, as CI may do) passes SIGINT down as ignored, and .NET, like
    /// every Unix program, leaves an inherited ignore alone; python3 resets it before exec.
    /// </summary>
    public static Process StartInForeground(params string[] args) => Start(args, asForegroundJob: true, new Dictionary<string, string>());

    static Process Start(string[] args, bool asForegroundJob, IReadOnlyDictionary<string, string> environment)
    {
        string exe = Path.Combine(AppContext.BaseDirectory, "circuits");
        var info = new ProcessStartInfo(asForegroundJob ? "python3" : exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asForegroundJob)
            foreach (string a in new[] { "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])", exe })
                info.ArgumentList.Add(a);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["SPARSE_CIRCUITS_THREADS"] = "1"; // tests run in parallel on a small machine
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return Process.Start(info)!;
    }

    /// <summary>Sends SIGINT, what Ctrl+C in a terminal sends.</summary>
    public static void Interrupt(Process process, string signal = "INT")
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Asserts the run failed with one clear error line (no stack trace) mentioning <paramref name="expected"/>.</summary>
    public static void AssertCleanError(Result result, string expected)
    {
        Xunit.Assert.NotEqual(0, result.ExitCode);
        // Progress lines ("reading final_model.pt: 0%") may come first when the machine is slow
        // enough for a progress report; the error itself must be one line, and the last.
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !System.Text.RegularExpressions.Regex.IsMatch(l.TrimEnd(), @": \d+%$")).ToArray();
        Xunit.Assert.True(lines.Length == 1, $"expected one error line, got:\n{result.Stderr}\nstdout:\n{result.Stdout}");
        Xunit.Assert.StartsWith("error: ", lines[0]);
        Xunit.Assert.Contains(expected, lines[0], StringComparison.OrdinalIgnoreCase);
        Xunit.Assert.DoesNotContain("   at ", result.Stderr);
    }
}

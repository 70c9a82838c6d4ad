using System.Diagnostics;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>Finds the built-in default corpus: the standard library of the machine's Python.</summary>
public static class PythonSources
{
    /// <summary>
    /// Asks <c>python3</c> for its standard-library directory; falls back to the usual install
    /// locations. Throws a user error when no Python is found.
    /// </summary>
    public static string FindStandardLibrary()
    {
        string? fromPython = AskPython();
        if (fromPython is not null && Directory.Exists(fromPython)) return fromPython;

        foreach (string root in new[] { "/usr/lib", "/usr/local/lib", "/opt/homebrew/lib" })
        {
            if (!Directory.Exists(root)) continue;
            string? newest = Directory.EnumerateDirectories(root, "python3.*")
                .Where(d => File.Exists(Path.Combine(d, "os.py")))
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .FirstOrDefault();
            if (newest is not null) return newest;
        }
        throw new SparseCircuitsException("no Python installation found for the default corpus; pass --source DIR with your .py files");
    }

    static string? AskPython()
    {
        try
        {
            var info = new ProcessStartInfo("python3", ["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(info);
            if (process is null) return null;
            string output = process.StandardOutput.ReadToEnd().Trim();
            if (!process.WaitForExit(10_000)) { process.Kill(); return null; }
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // python3 is not on PATH
        }
    }
}

namespace SparseCircuits.Core;

/// <summary>
/// Checks that an output path can be written before any work starts, so a long command never
/// fails at its very end (and loses its work) on a path it could not use. Each check writes and
/// removes one probe file in the directory the output will go to.
/// </summary>
public static class OutputPath
{
    /// <summary>An output file: not an existing directory, in a directory that exists or can be created and is writable.</summary>
    public static string CheckFile(string path, string option = "--out")
    {
        string full = Full(path, option);
        if (Directory.Exists(full)) throw new SparseCircuitsException($"{option} {path} is a directory; give a file name");
        Probe(Path.GetDirectoryName(full)!, path, option);
        return full;
    }

    /// <summary>An output directory: not an existing file, and writable (created if missing; a directory this check creates is removed again).</summary>
    public static string CheckDirectory(string path, string option = "--out")
    {
        string full = Full(path, option);
        if (File.Exists(full)) throw new SparseCircuitsException($"{option} {path} is a file; give a directory");
        Probe(full, path, option);
        return full;
    }

    static string Full(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new SparseCircuitsException($"{option} is empty");
        try { return Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new SparseCircuitsException($"{option} {path} is not a valid path: {e.Message}");
        }
    }

    static void Probe(string directory, string path, string option)
    {
        // Created directories are removed again, deepest first, so a refused or interrupted
        // command leaves nothing behind.
        var created = new List<string>();
        try
        {
            for (string? d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) created.Add(d);
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SparseCircuitsException($"{option} {path} cannot be written: {e.Message}");
        }
        finally
        {
            foreach (string d in created)
                try { if (Directory.Exists(d) && !Directory.EnumerateFileSystemEntries(d).Any()) Directory.Delete(d); }
                catch (IOException) { }
        }
    }
}

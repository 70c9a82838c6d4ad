namespace SparseCircuits.Core;

/// <summary>
/// Builds an output directory beside its final place and moves it in only when complete, so a
/// failed or interrupted run leaves no partial output. An existing target is replaced only when
/// it is empty or was written by the same kind of step (it holds <c>markerFile</c>).
/// </summary>
public sealed class StagedDirectory : IDisposable
{
    readonly string _target;
    readonly string _markerFile;
    bool _committed;

    /// <summary>The directory to write into while working.</summary>
    public string Path { get; }

    public StagedDirectory(string target, string markerFile)
    {
        if (string.IsNullOrWhiteSpace(target)) throw new SparseCircuitsException("output directory is empty: give a path with --out");
        _target = System.IO.Path.GetFullPath(target.TrimEnd('/', '\\'));
        _markerFile = markerFile;
        CheckTargetReplaceable();
        string parent = System.IO.Path.GetDirectoryName(_target)!;
        try { Directory.CreateDirectory(parent); }
        catch (IOException e) { throw new SparseCircuitsException($"cannot create output directory {parent}: {e.Message}"); }
        Path = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(_target)}.partial-{Environment.ProcessId}");
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        Directory.CreateDirectory(Path);
    }

    void CheckTargetReplaceable()
    {
        if (File.Exists(_target)) throw new SparseCircuitsException($"output path {_target} is a file, not a directory");
        if (Directory.Exists(_target) && Directory.EnumerateFileSystemEntries(_target).Any()
            && !File.Exists(System.IO.Path.Combine(_target, _markerFile)))
            throw new SparseCircuitsException($"output directory {_target} is not empty and holds no {_markerFile}; choose another --out");
    }

    /// <summary>Moves the finished directory into place, replacing an earlier output of the same kind.</summary>
    public void Commit()
    {
        CheckTargetReplaceable();
        if (Directory.Exists(_target))
        {
            string old = _target + $".old-{Environment.ProcessId}";
            Directory.Move(_target, old);
            Directory.Move(Path, _target);
            Directory.Delete(old, recursive: true);
        }
        else
        {
            Directory.Move(Path, _target);
        }
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

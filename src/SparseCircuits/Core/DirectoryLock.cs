namespace SparseCircuits.Core;

/// <summary>
/// One process at a time per directory: an exclusively opened lock file inside it, deleted when
/// released (and released by the OS when the process dies, so a crash never leaves a stale lock).
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    readonly FileStream _stream;
    readonly string _directory;
    readonly bool _createdDirectory;

    DirectoryLock(FileStream stream, string directory, bool createdDirectory) =>
        (_stream, _directory, _createdDirectory) = (stream, directory, createdDirectory);

    /// <param name="what">who else would hold the directory, for the error ("another training", "another sweep")</param>
    public static DirectoryLock Acquire(string directory, string fileName, string what)
    {
        bool created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, fileName);
        try
        {
            return new DirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose),
                directory, created);
        }
        catch (IOException)
        {
            throw new SparseCircuitsException($"{what} is running in {directory} (it holds {path}); wait for it or stop it first");
        }
    }

    /// <summary>Releases the lock; a directory this lock created and nothing else filled is removed again.</summary>
    public void Dispose()
    {
        _stream.Dispose();
        try
        {
            if (_createdDirectory && Directory.Exists(_directory) && !Directory.EnumerateFileSystemEntries(_directory).Any()) Directory.Delete(_directory);
        }
        catch (IOException) { }
    }
}

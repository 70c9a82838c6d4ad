namespace SparseCircuits.Tests.Support;

/// <summary>Paths in the repository the tests were built from (found from the test binaries upwards).</summary>
public static class RepoPaths
{
    /// <summary>The folder holding SparseCircuits.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>src/<paramref name="project"/>.</summary>
    public static string Source(string project) => Path.Combine(Root, "src", project);

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SparseCircuits.slnx"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;

namespace SparseCircuits.Reports;

/// <summary>A circuit found for the report: its link id (the directory name, made unique) and file.</summary>
public sealed record CatalogEntry(string Id, string File, Circuit Circuit);

/// <summary>
/// The circuits a report shows and the task-suite summary beside them, if any. Accepted layouts:
/// a directory with <c>summary.json</c> (its rows name the circuit files) and <c>NAME/circuit.json</c>;
/// a directory holding one <c>circuit.json</c>; a directory whose subdirectories hold them.
/// </summary>
public sealed record CircuitCatalog(string? Directory, TaskSuiteSummary? Summary, IReadOnlyList<CatalogEntry> Circuits)
{
    public static CircuitCatalog Empty { get; } = new(null, null, []);

    /// <summary>
    /// Finds the circuits of a report: <paramref name="circuitsDir"/> when given (it must hold
    /// circuits or a summary), else <c>&lt;model&gt;/../circuits</c> or <c>&lt;model&gt;/circuits</c>
    /// when one exists and holds any, else none.
    /// </summary>
    public static CircuitCatalog Find(string? circuitsDir, string modelDir)
    {
        if (circuitsDir is not null)
        {
            string dir = Path.GetFullPath(circuitsDir);
            if (!System.IO.Directory.Exists(dir)) throw new SparseCircuitsException($"circuits directory not found: {dir}");
            return Load(dir) ?? throw new SparseCircuitsException(
                $"{dir} holds no circuits: expected {TaskSuiteSummary.FileName}, a {CircuitFile.FileName}, or subdirectories with one (prune with `circuits prune`)");
        }
        string model = Path.GetFullPath(modelDir);
        foreach (string candidate in new[] { Path.Combine(Path.GetDirectoryName(model) ?? model, "circuits"), Path.Combine(model, "circuits") })
            if (System.IO.Directory.Exists(candidate) && Load(candidate) is { } found) return found;
        return Empty;
    }

    /// <summary>The circuits in <paramref name="dir"/>, or null when it holds neither circuits nor a summary.</summary>
    static CircuitCatalog? Load(string dir)
    {
        string single = Path.Combine(dir, CircuitFile.FileName);
        if (File.Exists(single)) return new CircuitCatalog(dir, null, [Entry(single, new HashSet<string>())]);

        string summaryPath = Path.Combine(dir, TaskSuiteSummary.FileName);
        TaskSuiteSummary? summary = File.Exists(summaryPath) ? ReadSummary(summaryPath) : null;
        var files = new List<string>();
        foreach (TaskSummaryRow row in summary?.Tasks ?? [])
            if (row.CircuitFile is { } file)
            {
                string full = Path.GetFullPath(Path.Combine(dir, file));
                if (!File.Exists(full)) throw new SparseCircuitsException($"{summaryPath} lists {file} for task {row.Task}, but the file is missing");
                files.Add(full);
            }
        foreach (string sub in System.IO.Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
        {
            string file = Path.GetFullPath(Path.Combine(sub, CircuitFile.FileName));
            if (File.Exists(file) && !files.Contains(file)) files.Add(file);
        }
        if (summary is null && files.Count == 0) return null;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        return new CircuitCatalog(dir, summary, files.Select(f => Entry(f, ids)).ToList());
    }

    static CatalogEntry Entry(string file, HashSet<string> ids)
    {
        string name = Path.GetFileName(Path.GetDirectoryName(file)) is { Length: > 0 } d ? d : "circuit";
        string id = name;
        for (int n = 2; !ids.Add(id); n++) id = $"{name}-{n}";
        return new CatalogEntry(id, file, CircuitFile.Load(file));
    }

    static TaskSuiteSummary ReadSummary(string path)
    {
        var summary = Json.ReadFile<TaskSuiteSummary>(path);
        if (summary.Tasks is null || summary.Tasks.Any(t => t is null || t.Task is null))
            throw new SparseCircuitsException($"{path} is damaged: its task rows are missing or incomplete");
        return summary;
    }

    /// <summary>The circuit a summary row points to, if it was found.</summary>
    public CatalogEntry? ForRow(TaskSummaryRow row) => row.CircuitFile is { } file && Directory is not null
        ? Circuits.FirstOrDefault(c => c.File == Path.GetFullPath(Path.Combine(Directory, file)))
        : null;
}

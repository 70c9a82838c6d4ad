using System.Globalization;
using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Frontier;

/// <summary>The frontier table as CSV and JSON (docs/sweeps.md describes the columns).</summary>
public static class FrontierFiles
{
    public static string Csv(FrontierTable table)
    {
        var columns = Columns(table);
        var text = new StringBuilder(string.Join(',', columns.Select(Quote))).Append('\n');
        foreach (var row in Cells(table)) text.Append(string.Join(',', row.Select(Quote))).Append('\n');
        return text.ToString();
    }

    /// <summary>Column names: model columns, one <c>edges_TASK</c> per task, the geometric mean and the unsolved tasks.</summary>
    public static IReadOnlyList<string> Columns(FrontierTable table) =>
    [
        "name", "dense", "n_layer", "width", "params", "nonzeros", "weight_density", "val_loss",
        .. table.Tasks.Select(t => $"edges_{t}"), "geomean_edges", "unsolved",
    ];

    /// <summary>The table's rows as strings (empty = none), in <see cref="Columns"/> order.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cells(FrontierTable table) => table.Rows.Select(r => (IReadOnlyList<string>)
    [
        r.Name, r.Dense ? "true" : "false", Int(r.NLayer), Int(r.Width), Int(r.Parameters), Int(r.Nonzeros),
        r.WeightDensity.ToString("0.####", CultureInfo.InvariantCulture), r.ValLoss.ToString("0.0000", CultureInfo.InvariantCulture),
        .. table.Tasks.Select(t => r.Edges[t] is double e ? e.ToString("0.#", CultureInfo.InvariantCulture) : ""),
        r.GeometricMeanEdges is double g ? g.ToString("0.00", CultureInfo.InvariantCulture) : "",
        string.Join(';', r.Unsolved),
    ]).ToList();

    /// <summary>table.json: the table without the per-task curves (those stay in each job.json).</summary>
    public static object Json(FrontierTable table) => new
    {
        Format = 1,
        table.TargetLoss,
        table.Tasks,
        table.CommonTasks,
        table.TrivialTasks,
        table.Repeats,
        table.MissingJobs,
        Rows = table.Rows.Select(r => new
        {
            r.Name, r.Dense, r.NLayer, r.Width, r.Parameters, r.Nonzeros, r.WeightDensity, r.ValLoss, r.Edges, r.GeometricMeanEdges, r.RepeatRange, r.Unsolved,
        }),
    };

    static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{cell.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : cell;
}

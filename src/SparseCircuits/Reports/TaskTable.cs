using SparseCircuits.Circuits;

namespace SparseCircuits.Reports;

/// <summary>
/// The task table: one row per summary.json row (in its order, linked to its circuit when found),
/// then one per circuit the summary does not list. Full-model loss comes from each circuit's
/// validation; rows without a circuit keep the summary's reason instead.
/// </summary>
public static class TaskTable
{
    public static IReadOnlyList<TaskRow> Build(CircuitCatalog catalog)
    {
        var rows = new List<TaskRow>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (TaskSummaryRow row in catalog.Summary?.Tasks ?? [])
        {
            CatalogEntry? entry = catalog.ForRow(row);
            if (entry is not null) listed.Add(entry.Id);
            rows.Add(new TaskRow(row.Task, row.Pruned, row.Nodes, row.Edges, ReportNumbers.Known(entry?.Circuit.Validation.FullModel.Loss),
                ReportNumbers.Known(row.SufficiencyLoss), ReportNumbers.Known(row.NecessityLoss), ReportNumbers.Known(row.ControlLoss), entry?.Id, row.Reason,
                row.TargetLoss ?? entry?.Circuit.TargetLoss ?? catalog.Summary?.TargetLoss));
        }
        foreach (CatalogEntry entry in catalog.Circuits.Where(c => !listed.Contains(c.Id)))
        {
            Circuit c = entry.Circuit;
            rows.Add(new TaskRow(c.Task.Name, true, c.NodeCount, c.EdgeCount, ReportNumbers.Known(c.Validation.FullModel.Loss),
                ReportNumbers.Known(c.Validation.Sufficiency.Loss), ReportNumbers.Known(c.Validation.Necessity.Loss),
                ReportNumbers.Known(c.Validation.Control.LossMean), entry.Id, null, c.TargetLoss));
        }
        return rows;
    }
}

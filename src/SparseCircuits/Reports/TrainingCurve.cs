using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Training;

namespace SparseCircuits.Reports;

/// <summary>
/// The training curve from <c>metrics.jsonl</c>, thinned to at most <see cref="MaxPoints"/> points:
/// every validation point, the last step, and evenly spaced train-loss steps in between.
/// </summary>
public static class TrainingCurve
{
    public const int MaxPoints = 500;

    /// <summary>
    /// The run's metrics, or none when it has no metrics.jsonl. Lines that do not parse are
    /// skipped: a run still training (or killed mid-write) can end in a torn line, and a report
    /// of a run in progress is a normal use.
    /// </summary>
    public static IReadOnlyList<StepMetrics> ReadMetrics(string runDir)
    {
        string path = Path.Combine(runDir, MetricsLog.FileName);
        if (!File.Exists(path)) return [];
        var metrics = new List<StepMetrics>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            try
            {
                if (JsonSerializer.Deserialize<StepMetrics>(line, Json.Options) is { } m) metrics.Add(m);
            }
            catch (JsonException) { }
        }
        return metrics;
    }

    public static IReadOnlyList<TrainingPoint> Build(IReadOnlyList<StepMetrics> metrics, int maxPoints = MaxPoints)
    {
        int valPoints = metrics.Count(m => m.ValLoss is not null);
        int budget = Math.Max(1, maxPoints - valPoints - 1);
        int stride = Math.Max(1, (int)Math.Ceiling(metrics.Count / (double)budget));
        var points = new List<TrainingPoint>();
        for (int i = 0; i < metrics.Count; i++)
        {
            StepMetrics m = metrics[i];
            if (m.ValLoss is null && i % stride != 0 && i != metrics.Count - 1) continue;
            if (!double.IsFinite(m.TrainLoss)) continue;
            points.Add(new TrainingPoint(m.Step, m.Tokens, ReportNumbers.Value(m.TrainLoss), ReportNumbers.Known(m.ValLoss)));
        }
        return points;
    }
}

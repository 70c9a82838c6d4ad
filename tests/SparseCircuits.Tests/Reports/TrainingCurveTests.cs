using SparseCircuits.Core;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Reports;

public sealed class TrainingCurveTests
{
    [Fact]
    public void A_long_log_is_thinned_to_the_limit_keeping_every_validation_point_and_the_last_step()
    {
        var metrics = Enumerable.Range(1, 3001).Select(s => new StepMetrics(s, s * 100L, 5.0 - s / 1000.0, 1e-3, 1, 0.1,
            ValLoss: s % 100 == 0 ? 4.0 - s / 2000.0 : null)).ToList();
        var curve = TrainingCurve.Build(metrics);
        Assert.InRange(curve.Count, 400, TrainingCurve.MaxPoints);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => i * 100L), curve.Where(p => p.ValLoss is not null).Select(p => p.Step));
        Assert.Equal(3001, curve[^1].Step);
        Assert.Equal(1, curve[0].Step);
        Assert.Equal(curve.Select(p => p.Step).Order(), curve.Select(p => p.Step));
        Assert.Equal(4.0 - 0.05, curve.First(p => p.Step == 100).ValLoss);
        Assert.Equal(100, curve.First(p => p.Step == 1).Tokens);
    }

    [Fact]
    public void A_short_log_is_kept_whole()
    {
        var metrics = Enumerable.Range(1, 20).Select(s => new StepMetrics(s, s, 3, 0, 0, 1)).ToList();
        Assert.Equal(20, TrainingCurve.Build(metrics).Count);
    }

    [Fact]
    public void Metrics_of_a_run_still_writing_are_read_up_to_a_torn_last_line()
    {
        using var dir = new TempDir();
        string Line(long step) => System.Text.Json.JsonSerializer.Serialize(new StepMetrics(step, step * 10, 2.5, 1e-3, 1, 0.5), Json.Compact);
        dir.Write(MetricsLog.FileName, $"{Line(1)}\n{Line(2)}\n{Line(3)[..20]}");
        Assert.Equal([1L, 2L], TrainingCurve.ReadMetrics(dir.Path).Select(m => m.Step));
        Assert.Empty(TrainingCurve.ReadMetrics(dir["no-run"]));
    }
}

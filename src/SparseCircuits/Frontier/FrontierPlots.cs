using System.Globalization;
using ScottPlot;

namespace SparseCircuits.Frontier;

/// <summary>A rendered figure: the same plot as PNG bytes and as SVG markup.</summary>
public sealed record PlotImage(string Title, byte[] Png, string Svg, string Caption);

/// <summary>
/// The two frontier figures, drawn with ScottPlot: val loss against geometric-mean circuit edges
/// (log x; one series per sparse width, points labelled by weight density; dense models as their
/// own series labelled by width), and circuit edges against target loss for a sparse and a dense
/// model of closest val loss.
/// </summary>
public static class FrontierPlots
{
    public const int Width = 800, Height = 560;

    public static PlotImage Frontier(FrontierTable table)
    {
        var plot = new Plot();
        string tasks = table.CommonTasks.Count == 0 ? "no common task" : $"{table.CommonTasks.Count} common task(s)";
        plot.Title($"Val loss vs circuit size (target loss {Num(table.TargetLoss)}, {tasks})");
        plot.XLabel("circuit edges, geometric mean over tasks solved by every model (log scale)");
        plot.YLabel("val loss (nats/token)");
        var plotted = table.Rows.Where(r => r.GeometricMeanEdges is > 0 && double.IsFinite(r.ValLoss)).ToList();
        var groups = plotted.Where(r => !r.Dense).GroupBy(r => r.Width).OrderBy(g => g.Key)
            .Select(g => ($"sparse, width {g.Key}", g.OrderBy(r => r.GeometricMeanEdges).ToList(), MarkerShape.FilledCircle, (Func<FrontierRow, string>)(r => $"d={Num(r.WeightDensity)}")))
            .Append(("dense", plotted.Where(r => r.Dense).OrderBy(r => r.GeometricMeanEdges).ToList(), MarkerShape.FilledSquare, r => $"w={r.Width}"));
        foreach (var (label, rows, marker, pointLabel) in groups)
        {
            if (rows.Count == 0) continue;
            var scatter = plot.Add.Scatter(rows.Select(r => Math.Log10(r.GeometricMeanEdges!.Value)).ToArray(), rows.Select(r => r.ValLoss).ToArray());
            scatter.LegendText = label;
            scatter.MarkerShape = marker;
            scatter.MarkerSize = 9;
            scatter.LineWidth = label == "dense" ? 1 : 2;
            foreach (FrontierRow r in rows)
            {
                var text = plot.Add.Text(pointLabel(r), Math.Log10(r.GeometricMeanEdges!.Value), r.ValLoss);
                text.LabelFontSize = 11;
                text.OffsetX = 6;
                text.OffsetY = -6;
                text.LabelFontColor = scatter.Color;
            }
        }
        if (plotted.Count == 0)
            Message(plot, table.CommonTasks.Count == 0
                ? $"No non-trivial task reaches the target loss {Num(table.TargetLoss)} on every model: nothing to compare."
                : "No model has a positive geometric mean of edges: nothing to plot on a log axis.");
        else
        {
            LogAxis(plot, plot.Axes.Bottom);
            plot.ShowLegend(Alignment.UpperRight);
        }
        string caption = $"Each point is one model of the sweep. x: geometric mean over {tasks} of the edges of its circuit at task loss " +
                         $"{Num(table.TargetLoss)}; y: its validation loss. Sparse models are grouped by width and labelled by weight density; " +
                         "dense models are labelled by width. Lower-left is better.";
        return Render(plot, "Frontier: val loss vs circuit edges", caption);
    }

    public static PlotImage EdgesVsTargetLoss(EdgesVsTarget data, double targetLoss)
    {
        var plot = new Plot();
        plot.Title("Circuit size vs target loss (sparse vs dense model of closest val loss)");
        plot.XLabel("target task loss (val split)");
        // Log scale unless an empty circuit (0 edges) already reaches some target.
        bool log = data.Series.SelectMany(s => s.Points).All(p => p.Edges is null or > 0);
        plot.YLabel($"edges, geometric mean over {data.Tasks.Count} task(s){(log ? " (log scale)" : "")}");
        foreach (EdgesVsTargetSeries s in data.Series)
        {
            var points = s.Points.Where(p => p.Edges is not null).ToList();
            if (points.Count == 0) continue;
            var scatter = plot.Add.Scatter(points.Select(p => p.TargetLoss).ToArray(),
                points.Select(p => log ? Math.Log10(p.Edges!.Value) : p.Edges!.Value).ToArray());
            scatter.LegendText = $"{(s.Dense ? "dense" : "sparse")} {s.Model} (val {s.ValLoss:0.000})";
            scatter.MarkerShape = s.Dense ? MarkerShape.FilledSquare : MarkerShape.FilledCircle;
            scatter.MarkerSize = 8;
            scatter.LineWidth = 2;
            scatter.ConnectStyle = ConnectStyle.StepHorizontal;
        }
        if (data.Series.Count == 0) Message(plot, $"No comparison: {data.Note}.");
        else
        {
            if (log) LogAxis(plot, plot.Axes.Left);
            plot.ShowLegend(Alignment.UpperRight);
        }
        string caption = $"Edges of each model's circuits as the target is loosened from {Num(targetLoss)}: for each target the smallest evaluated " +
                         "prefix of the ranking found at the sweep's target that reaches it (an upper bound on a fresh search), geometric mean " +
                         $"over {(data.Tasks.Count == 0 ? "no task" : string.Join(", ", data.Tasks))}.";
        return Render(plot, "Edges vs target loss", caption);
    }

    static void Message(Plot plot, string message)
    {
        var text = plot.Add.Text(message, 0, 0);
        text.LabelFontSize = 14;
        text.LabelAlignment = Alignment.MiddleCenter;
        plot.Axes.SetLimits(-1, 1, -1, 1);
    }

    /// <summary>Data are log10 values; ticks at powers of ten are labelled with the value itself.</summary>
    static void LogAxis(Plot plot, ScottPlot.IAxis axis)
    {
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Axes.AutoScale();
        var range = axis.Range;
        double pad = Math.Max(0.15, (range.Max - range.Min) * 0.08);
        axis.Range.Set(range.Min - pad, range.Max + pad);
    }

    static PlotImage Render(Plot plot, string title, string caption) =>
        new(title, plot.GetImageBytes(Width, Height, ImageFormat.Png), plot.GetSvgXml(Width, Height), caption);

    static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}

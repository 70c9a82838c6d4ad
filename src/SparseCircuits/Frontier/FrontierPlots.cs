using System.Globalization;
using ScottPlot;

namespace SparseCircuits.Frontier;

/// <summary>A rendered figure: the same plot as PNG bytes and as SVG markup.</summary>
public sealed record PlotImage(string Title, byte[] Png, string Svg, string Caption);

/// <summary>
/// The frontier figures, drawn with ScottPlot: val loss against geometric-mean circuit edges
/// (log x; one series per sparse width, points labelled by weight density; dense models as their
/// own series labelled by width), the same for one task's circuits, and circuit edges against
/// target loss for a sparse and a dense model of closest val loss.
/// </summary>
public static class FrontierPlots
{
    public const int Width = 800, Height = 560;

    /// <param name="task">null: geometric mean over the common tasks; a task name: that task's circuits on every model that solves it</param>
    public static PlotImage Frontier(FrontierTable table, string? task = null)
    {
        var plot = new Plot();
        string tasks = task is not null ? task : table.CommonTasks.Count == 0 ? "no common task" : $"{table.CommonTasks.Count} common task(s)";
        double? EdgesOf(FrontierRow r) => task is null ? r.GeometricMeanEdges : r.Edges[task];
        plot.Title($"Val loss vs circuit size (target loss {Num(table.TargetLoss)}, {tasks})");
        plot.XLabel(task is null ? "circuit edges, geometric mean over tasks solved by every model (log scale)" : $"edges of the {task} circuit (log scale)");
        plot.YLabel("val loss (nats/token)");
        var plotted = table.Rows.Where(r => EdgesOf(r) is > 0 && double.IsFinite(r.ValLoss)).ToList();
        var groups = plotted.Where(r => !r.Dense).GroupBy(r => r.Width).OrderBy(g => g.Key)
            // Lines join a width's densities from dense to sparse, and the dense models from narrow to wide.
            .Select(g => ($"sparse, width {g.Key}", g.OrderByDescending(r => r.WeightDensity).ToList(), MarkerShape.FilledCircle, (Func<FrontierRow, string>)(r => $"d={Num(r.WeightDensity)}")))
            .Append(("dense", plotted.Where(r => r.Dense).OrderBy(r => r.Width).ToList(), MarkerShape.FilledSquare, r => $"w={r.Width}"));
        // Colours by series over the whole table, so a width keeps its colour in every frontier figure.
        var series = table.Rows.Where(r => !r.Dense).Select(r => $"sparse, width {r.Width}").Distinct().Order(StringComparer.Ordinal).Append("dense").ToList();
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var (label, rows, marker, pointLabel) in groups)
        {
            if (rows.Count == 0) continue;
            var scatter = plot.Add.Scatter(rows.Select(r => Math.Log10(EdgesOf(r)!.Value)).ToArray(), rows.Select(r => r.ValLoss).ToArray());
            scatter.Color = palette.GetColor(series.IndexOf(label));
            scatter.LegendText = label;
            scatter.MarkerShape = marker;
            scatter.MarkerSize = 9;
            scatter.LineWidth = label == "dense" ? 1 : 2;
            foreach (FrontierRow r in rows)
            {
                // Pruning noise: the range of this model's edges over the repeats taken one at a time.
                if (task is null && r.RepeatRange is { } range && range.Max > range.Min)
                {
                    var bar = plot.Add.Line(Math.Log10(range.Min), r.ValLoss, Math.Log10(range.Max), r.ValLoss);
                    bar.LineColor = scatter.Color;
                    bar.LineWidth = 1;
                    bar.LegendText = "";
                }
                var text = plot.Add.Text(pointLabel(r), Math.Log10(EdgesOf(r)!.Value), r.ValLoss);
                text.LabelFontSize = 11;
                text.OffsetX = 6;
                text.OffsetY = -6;
                text.LabelFontColor = scatter.Color;
            }
        }
        if (plotted.Count == 0)
            Message(plot, task is not null ? $"No model has a non-empty {task} circuit at the target loss {Num(table.TargetLoss)}."
                : table.CommonTasks.Count == 0
                ? $"No non-trivial task reaches the target loss {Num(table.TargetLoss)} on every model: nothing to compare."
                : "No model has a positive geometric mean of edges: nothing to plot on a log axis.");
        else
        {
            LogAxis(plot, plot.Axes.Bottom);
            // Lower left (small circuits at low loss) is where no model of a real sweep sits.
            plot.ShowLegend(Alignment.LowerLeft);
        }
        string x = task is null ? $"geometric mean over {tasks} of the edges of its circuit" : $"edges of its {task} circuit (models that do not reach the target are left out)";
        string caption = $"Each point is one model of the sweep. x: {x} at task loss " +
                         $"{Num(table.TargetLoss)}; y: its validation loss. Sparse models are grouped by width, labelled by weight density and joined " +
                         "from dense to sparse; dense models are labelled by width and joined from narrow to wide. Lower-left is better." +
                         (task is null && table.Repeats > 1 ? $" Horizontal bars: the range over the {table.Repeats} pruning repeats taken one at a time." : "");
        return Render(plot, task is null ? "Frontier: val loss vs circuit edges" : $"Frontier on {task}", caption);
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

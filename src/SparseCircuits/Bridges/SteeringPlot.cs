using System.Globalization;
using ScottPlot;

namespace SparseCircuits.Bridges;

/// <summary>
/// The figure of a <see cref="SteeringResult"/> (ScottPlot): the dense model's probability of the
/// counterfactual answer against steering strength for the circuit node, the band spanned by the
/// random-channel controls with their mean, and the level the dense model reaches on the
/// counterfactual prompts themselves.
/// </summary>
public static class SteeringPlot
{
    public const int Width = 800, Height = 520;

    public static (byte[] Png, string Svg) Render(SteeringResult result)
    {
        var plot = new Plot();
        plot.Title($"Steering the dense model: {result.Task} via {result.Node}");
        plot.XLabel("strength");
        plot.YLabel("P(counterfactual answer), dense model");
        double[] x = result.Strengths.ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        if (result.Controls.Count > 0)
        {
            double[] low = x.Select((_, k) => result.Controls.Min(c => c.CounterfactualProbability[k])).ToArray();
            double[] high = x.Select((_, k) => result.Controls.Max(c => c.CounterfactualProbability[k])).ToArray();
            var band = plot.Add.FillY(x, low, high);
            band.FillColor = Colors.Gray.WithAlpha(0.25);
            band.LineColor = Colors.Gray.WithAlpha(0.4);
            band.LegendText = $"{result.Controls.Count} random channels of {result.Site} (min-max)";
            var mean = plot.Add.Scatter(x, x.Select((_, k) => result.Controls.Average(c => c.CounterfactualProbability[k])).ToArray());
            mean.Color = Colors.Gray;
            mean.LinePattern = LinePattern.Dashed;
            mean.MarkerSize = 0;
            mean.LegendText = "random channels, mean";
        }
        var node = plot.Add.Scatter(x, result.Steered.CounterfactualProbability.ToArray());
        node.Color = palette.GetColor(0);
        node.LineWidth = 2;
        node.MarkerSize = 8;
        node.LegendText = $"circuit node {result.Node}";
        var swap = plot.Add.HorizontalLine(result.DenseOnCounterfactual);
        swap.Color = palette.GetColor(2);
        swap.LinePattern = LinePattern.Dotted;
        swap.LegendText = "dense model on the counterfactual prompts";
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.UpperLeft);
        return (plot.GetImageBytes(Width, Height, ImageFormat.Png), plot.GetSvgXml(Width, Height));
    }

    /// <summary>The directory of a run's steering experiments.</summary>
    public static string Directory(string runDir) => Path.Combine(runDir, "bridges");

    /// <summary>
    /// Writes <c>RUN/bridges/steer-{task}-{node}.{png,svg,json}</c>, each atomically, the JSON last
    /// (the report lists experiments by it); returns the path without extension.
    /// </summary>
    public static string Save(string runDir, SteeringResult result)
    {
        var (png, svg) = Render(result);
        string stem = Path.Combine(Directory(runDir), SteeringResult.Stem(result.Task, result.Node));
        System.IO.Directory.CreateDirectory(Directory(runDir));
        Core.AtomicFile.WriteAllBytes(stem + ".png", png);
        Core.AtomicFile.WriteAllText(stem + ".svg", svg);
        Core.AtomicFile.WriteJson(stem + ".json", result);
        return stem;
    }

    /// <summary>A strength as written in tables and file names.</summary>
    public static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}

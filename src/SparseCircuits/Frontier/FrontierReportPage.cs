using SparseCircuits.Reports;

namespace SparseCircuits.Frontier;

/// <summary>The report's frontier page from a computed sweep frontier: the headline in words, both plots as inline SVG, the table.</summary>
public static class FrontierReportPage
{
    public static FrontierPage From(FrontierResult frontier) => new(
        frontier.Comparison.Summary,
        frontier.Plots.Select(p => new ReportFigure(p.Image.Title, p.Image.Svg, p.Image.Caption)).ToList(),
        FrontierFiles.Columns(frontier.Table),
        FrontierFiles.Cells(frontier.Table));

    /// <summary>The page for the sweep in <paramref name="sweepDir"/>.</summary>
    public static FrontierPage Build(string sweepDir) => From(SweepFrontier.Compute(sweepDir));
}

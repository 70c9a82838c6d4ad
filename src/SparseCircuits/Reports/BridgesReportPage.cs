using System.Globalization;
using SparseCircuits.Bridges;
using SparseCircuits.Core;

namespace SparseCircuits.Reports;

/// <summary>
/// The report's bridges page for a run with bridges (docs/bridges.md): what the sparse model was
/// trained next to, the per-site quality table of the last <c>circuits bridges eval</c>, and every
/// saved steering experiment as its plot (inline SVG) with the numbers in the caption.
/// </summary>
public static class BridgesReportPage
{
    public static readonly IReadOnlyList<string> Columns =
        ["site", "NMSE d→s", "NMSE s→d", "KL d→s", "KL s→d", "loss d→s", "loss s→d"];

    /// <summary>The page of the run in <paramref name="runDir"/>, or null when it has no bridges.</summary>
    public static BridgesPage? TryBuild(string runDir)
    {
        BridgeRunInfo? info = BridgeRunInfo.TryLoad(runDir);
        if (info is null) return null;
        BridgeEvaluation? eval = BridgeEvaluation.TryLoad(runDir);
        string summary = $"This sparse model was trained next to the frozen dense model {info.DenseRun} ({Path.GetFileName(info.DenseCheckpoint)}) " +
                         $"with bridges at {info.Sites.Count} sites (the residual before every attention and MLP block). " +
                         (eval is null
                             ? $"No measurement yet: run `circuits bridges eval {runDir}`."
                             : $"Measured on {eval.Tokens:N0} {eval.Split} tokens: dense model {F(eval.DenseLoss)} nats/token, sparse model {F(eval.SparseLoss)}. " +
                               "d→s: the dense residual encoded and run through the sparse model's tail; s→d: the sparse residual decoded and run " +
                               "through the dense model's tail; NMSE 1 = predicting the mean; KL from the dense model's next-token distribution.");
        var rows = (eval?.Sites ?? []).Select(s => (IReadOnlyList<string>)
            [s.Site, F(s.NmseEncoder), F(s.NmseDecoder), F(s.KlDenseToSparse), F(s.KlSparseToDense), F(s.LossDenseToSparse), F(s.LossSparseToDense)]).ToList();
        return new BridgesPage(summary, Columns, rows, SteeringFigures(runDir));
    }

    static List<ReportFigure> SteeringFigures(string runDir)
    {
        string dir = SteeringPlot.Directory(runDir);
        var figures = new List<ReportFigure>();
        if (!Directory.Exists(dir)) return figures;
        foreach (string json in Directory.GetFiles(dir, "steer-*.json").Order(StringComparer.Ordinal))
        {
            string svg = Path.ChangeExtension(json, ".svg");
            if (!File.Exists(svg)) continue;
            SteeringResult r = Json.ReadFile<SteeringResult>(json);
            string curve = string.Join(", ", r.Strengths.Select((s, k) => $"{F(s)}: {F(r.Steered.CounterfactualProbability[k])}"));
            string controls = r.Controls.Count == 0 ? "no controls"
                : $"{r.Controls.Count} random channels of {r.Site} reach {F(r.Controls.Min(c => c.CounterfactualProbability[^1]))}-{F(r.Controls.Max(c => c.CounterfactualProbability[^1]))} at strength {F(r.Strengths[^1])}";
            figures.Add(new ReportFigure($"Steering {r.Task} via {r.Node}", File.ReadAllText(svg),
                $"The dense model's probability of the counterfactual answer on {r.Prompts} prompts, by strength ({curve}); {controls}; " +
                $"on the counterfactual prompts themselves {F(r.DenseOnCounterfactual)}. RMS ratio dense/sparse at {r.Site}: {F(r.RmsRatio)}."));
        }
        return figures;
    }

    static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
}

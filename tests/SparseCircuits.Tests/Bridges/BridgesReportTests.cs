using SparseCircuits.Bridges;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Bridges;

[Collection(BridgedTinyPairCollection.Name)]
public sealed class BridgesReportTests(BridgedTinyPair pair)
{
    [Fact]
    public void A_report_of_a_bridged_run_has_a_bridges_page_with_the_site_table_and_steering_plots()
    {
        using (var bridged = BridgedPair.Load(pair.BridgedDir))
        {
            BridgeEvaluation.Measure(bridged, null, CorpusSplit.Val, 64).Save(pair.BridgedDir);
            var prompts = BridgeSteering.Prompts(SparseCircuits.Tasks.TaskDataset.FromTask(SparseCircuits.Tasks.TaskRegistry.Get(BridgedTinyPair.Task),
                bridged.Sparse.Tokenizer, SparseCircuits.Tasks.TaskSplit.Test, 4, 0, new SparseCircuits.Tasks.TaskDatasetOptions { MaxPromptTokens = 32 }));
            var result = BridgeSteering.Run(bridged, BridgedTinyPair.Task, BridgedTinyPair.SteeredNode, prompts, [0, 1], [2], rmsRatio: 1);
            SteeringPlot.Save(pair.BridgedDir, result);
        }
        ReportData report = ReportBuilder.Build(new ReportOptions { ModelDir = pair.BridgedDir, ProfileTokens = 256, AblationPrompts = 4 }, NullProgress.Instance);

        Assert.NotNull(report.Bridges);
        Assert.Equal(BridgeSites.For(2), report.Bridges.Rows.Select(r => r[0]));
        Assert.Equal(BridgesReportPage.Columns.Count, report.Bridges.Rows[0].Count);
        var figure = Assert.Single(report.Bridges.Figures, f => f.Title.Contains(BridgedTinyPair.SteeredNode.ToString()));
        Assert.Contains("<svg", figure.Svg);
        Assert.Contains(pair.DenseDir, report.Bridges.Summary);
        Assert.Null(BridgesReportPage.TryBuild(pair.DenseDir));
    }
}

using System.Globalization;
using Microsoft.Playwright;
using SparseCircuits.Core;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Reports;

/// <summary>
/// The browser check on a real report: built by <see cref="ReportBuilder"/> from a tiny
/// trained model with a pruned circuit (<see cref="ReportRun"/>), opened from disk in chromium.
/// </summary>
[Trait("Category", "Slow")]
public sealed class TrainedReportBrowserTests(BrowserFixture browser, ReportRun run) : IClassFixture<BrowserFixture>, IClassFixture<ReportRun>, IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Report_of_a_tiny_trained_model_shows_tasks_then_a_node_panel_and_filters_edges()
    {
        ReportData data = ReportBuilder.Build(new ReportOptions { ModelDir = run.ModelDir, CircuitsDir = run.CircuitsDir, ProfileTokens = 2048 },
            NullProgress.Instance);
        string path = dir["report.html"];
        ReportHtml.Write(data, path);
        await using var watched = await browser.OpenAsync(new Uri(path).AbsoluteUri);
        var page = watched.Page;

        // The task table lists every row of the summary; the pruned task links to its circuit.
        Assert.Equal(data.Tasks.Count, await page.Locator("table#task-table tbody tr").CountAsync());
        await page.Locator("table#task-table a[href='#/circuit/quotes']").ClickAsync();
        CircuitView circuit = data.Circuits.Single(c => c.Id == "quotes");
        await page.WaitForURLAsync("**#/circuit/quotes");
        Assert.Equal(circuit.Nodes.Count, await page.Locator("#graph g[data-node]").CountAsync());

        // A node with incoming edges: its panel lists them, and its pretraining snippets.
        string node = circuit.Edges.GroupBy(e => e.Target).OrderByDescending(g => g.Count()).First().Key;
        await page.Locator($"#graph g[data-node='{node}']").ClickAsync();
        await Assertions.Expect(page.Locator("#node-panel h2")).ToHaveTextAsync(node);
        Assert.Equal(circuit.Edges.Count(e => e.Target == node), await page.Locator("#node-in-edges tbody tr").CountAsync());
        Assert.Equal(circuit.Edges.Count(e => e.Source == node), await page.Locator("#node-out-edges tbody tr").CountAsync());
        Assert.Equal(data.NodeProfiles[node].Snippets.Count, await page.Locator("#node-snippets .snippet-group").CountAsync());
        Assert.True(await page.Locator("#node-snippets .tok").CountAsync() > 0, "snippet tokens are drawn");

        // Moving the threshold above the median |weight| hides some edges and updates the count.
        double[] weights = circuit.Edges.Select(e => Math.Abs(e.Weight)).Order().ToArray();
        double threshold = weights[weights.Length / 2] + 1e-9;
        await page.Locator("input#edge-threshold").EvaluateAsync(
            "(e, t) => { e.value = String(t); e.dispatchEvent(new Event('input', { bubbles: true })); }", threshold);
        int expected = circuit.Edges.Count(e => Math.Abs(e.Weight) >= threshold);
        Assert.True(expected < circuit.Edges.Count);
        Assert.Equal(expected, int.Parse(await page.Locator("#edge-count").InnerTextAsync(), CultureInfo.InvariantCulture));

        string shot = dir["tiny-circuit.png"];
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 10_000);
        watched.AssertClean(url => url.StartsWith("file:", StringComparison.Ordinal));
    }
}

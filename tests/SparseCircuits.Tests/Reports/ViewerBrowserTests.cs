using System.Globalization;
using Microsoft.Playwright;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Reports;

/// <summary>The report page in headless chromium: every view, the node panel, threshold, zoom, and a clean console.</summary>
[Trait("Category", "Slow")]
public sealed class ViewerBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    static bool IsFile(string url) => url.StartsWith("file:", StringComparison.Ordinal);

    async Task<WatchedPage> OpenFileAsync(ReportData data, string? keepAs = null)
    {
        string path = dir["report.html"];
        ReportHtml.Write(data, path);
        if (keepAs is not null) Keep(path, keepAs);
        return await browser.OpenAsync(new Uri(path).AbsoluteUri);
    }

    /// <summary>With VIEWER_KEEP_DIR set, the synthetic page and the screenshots are copied there to look at.</summary>
    static void Keep(string path, string name)
    {
        string? keep = Environment.GetEnvironmentVariable("VIEWER_KEEP_DIR");
        if (string.IsNullOrEmpty(keep)) return;
        Directory.CreateDirectory(keep);
        File.Copy(path, Path.Combine(keep, name), overwrite: true);
    }

    static async Task<int> EdgeCount(IPage page) => int.Parse(await page.Locator("#edge-count").InnerTextAsync(), CultureInfo.InvariantCulture);

    /// <summary>Screenshots go to the test's folder (see <see cref="Keep"/>).</summary>
    async Task ScreenshotAsync(IPage page, string name)
    {
        string path = dir[name];
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        byte[] png = File.ReadAllBytes(path);
        Assert.True(png.Length > 10_000, $"screenshot {name} has only {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Keep(path, name);
    }

    [Fact]
    public async Task Synthetic_report_from_a_file_shows_tasks_circuit_node_panel_and_filters()
    {
        var data = ReportFixtures.Synthetic();
        var circuit = data.Circuits[0];
        await using var watched = await OpenFileAsync(data, keepAs: "synthetic-report.html");
        var page = watched.Page;

        // Overview: the task table, one row per task, the pruned one linking to its circuit.
        var rows = page.Locator("table#task-table tbody tr");
        Assert.Equal(2, await rows.CountAsync());
        Assert.Equal(1, await page.Locator($"tr[data-task={ReportFixtures.UnprunedTask}] td").Filter(new() { HasText = "above the target" }).CountAsync());
        Assert.Equal(0, await page.Locator($"tr[data-task={ReportFixtures.UnprunedTask}] a").CountAsync());
        Assert.Equal(1, await page.Locator("#training-plot polyline.train-line").CountAsync());
        await ScreenshotAsync(page, "overview.png");

        await page.Locator($"tr[data-task={ReportFixtures.PrunedTask}] a").ClickAsync();
        await page.WaitForURLAsync($"**#/circuit/{ReportFixtures.CircuitId}");
        Assert.Equal(circuit.Nodes.Count, await page.Locator("#graph g[data-node]").CountAsync());
        Assert.Equal(circuit.Edges.Count, await page.Locator("#graph path.edge").CountAsync());
        Assert.Equal(circuit.Edges.Count, await EdgeCount(page));
        Assert.Equal(circuit.Rows.Count, await page.Locator("#graph .row-label").CountAsync());
        Assert.Equal(circuit.LossCurve.Count, await page.Locator("#loss-curve circle").CountAsync());
        Assert.Equal(circuit.LossCurve.Count(p => p.Edges is not null), await page.Locator("#loss-edges-curve circle").CountAsync());
        Assert.Equal(2, await page.Locator("#loss-edges-curve polyline").CountAsync());   // ranking prefixes and refinement

        // The node panel: edges both ways, task activations, attention, snippets.
        await page.Locator($"#graph g[data-node='{ReportFixtures.QueryNode}']").ClickAsync();
        await Assertions.Expect(page.Locator("#node-panel h2")).ToHaveTextAsync(ReportFixtures.QueryNode);
        var incoming = circuit.Edges.Where(e => e.Target == ReportFixtures.QueryNode).ToList();
        var outgoing = circuit.Edges.Where(e => e.Source == ReportFixtures.QueryNode).ToList();
        Assert.Equal(incoming.Count, await page.Locator("#node-in-edges tbody tr").CountAsync());
        Assert.Equal(outgoing.Count, await page.Locator("#node-out-edges tbody tr").CountAsync());
        var profile = data.NodeProfiles[ReportFixtures.QueryNode];
        Assert.Equal(profile.Snippets.Count, await page.Locator("#node-snippets .snippet-group").CountAsync());
        Assert.Equal(profile.Snippets.Sum(g => g.Snippets.Count), await page.Locator("#node-snippets .tok.focus").CountAsync());
        Assert.NotNull(await page.Locator("#node-snippets .tok.focus").First.GetAttributeAsync("title"));
        Assert.True(await page.Locator("#node-snippets .ws").CountAsync() > 0, "whitespace is drawn visibly");
        Assert.Equal(3, await page.Locator("#node-task .pair").CountAsync());
        Assert.Equal(2, await page.Locator("#node-task .pair .diff").CountAsync());
        Assert.True(await page.Locator("#attention-kept rect").CountAsync() >= 21, "a 6-token causal pattern has 21 cells");
        Assert.True(await page.Locator("#attention-full rect").CountAsync() >= 21);
        await page.Mouse.MoveAsync(1, 1);
        await ScreenshotAsync(page, "circuit.png");

        // Clicking an incoming edge jumps to its source node.
        string source = incoming[0].Source;
        await page.Locator($"#node-in-edges tr[data-node='{source}']").ClickAsync();
        await Assertions.Expect(page.Locator("#node-panel h2")).ToHaveTextAsync(source);
        Assert.Equal(1, await page.Locator("#graph g.node.selected").CountAsync());

        // A node without a profile says so.
        await page.Locator($"#graph g[data-node='{ReportFixtures.NodeWithoutProfile}']").ClickAsync();
        await Assertions.Expect(page.Locator("#node-snippets")).ToContainTextAsync("No pretraining profile");

        // The threshold hides light edges and counts the rest.
        double threshold = 0.5;
        await page.Locator("input#edge-threshold").EvaluateAsync(
            "(e, t) => { e.value = String(t); e.dispatchEvent(new Event('input', { bubbles: true })); }", threshold);
        int expected = circuit.Edges.Count(e => Math.Abs(e.Weight) >= threshold);
        Assert.True(expected < circuit.Edges.Count);
        Assert.Equal(expected, await EdgeCount(page));
        Assert.Equal(circuit.Edges.Count - expected, await page.Locator("#graph path.edge.hidden").CountAsync());
        await page.Locator("input#edge-threshold").FocusAsync();
        await page.Keyboard.PressAsync("End");
        Assert.Equal(1, await EdgeCount(page));

        // Wheel zooms and drag pans the viewBox; reset restores it.
        var graph = page.Locator("#graph");
        string? home = await graph.GetAttributeAsync("viewBox");
        var box = (await graph.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + 20);
        await page.Mouse.WheelAsync(0, -400);
        await Assertions.Expect(graph).Not.ToHaveAttributeAsync("viewBox", home!);
        string? zoomed = await graph.GetAttributeAsync("viewBox");
        Assert.True(ViewBoxWidth(zoomed) < ViewBoxWidth(home), $"zoom in shrinks the viewBox: {home} -> {zoomed}");
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width / 2 + 80, box.Y + 60, new() { Steps = 4 });
        await page.Mouse.UpAsync();
        Assert.NotEqual(zoomed, await graph.GetAttributeAsync("viewBox"));
        await page.Locator("#graph-reset").ClickAsync();
        Assert.Equal(home, await graph.GetAttributeAsync("viewBox"));

        // Embeddings: all channels, then only those circuits use.
        await page.Locator("#nav-embeddings").ClickAsync();
        var channels = page.Locator("#embedding-table tbody tr");
        await channels.First.WaitForAsync(); // the page renders after the hash change, not within the click
        Assert.Equal(data.Embeddings.Channels.Count, await channels.CountAsync());
        await page.Locator("#only-used").CheckAsync();
        Assert.Equal(data.Embeddings.Channels.Count(c => c.UsedBy.Count > 0), await page.Locator("#embedding-table tbody tr:visible").CountAsync());
        await ScreenshotAsync(page, "embeddings.png");
        await page.Locator("#embedding-table tbody tr:visible a").First.ClickAsync();
        await page.WaitForURLAsync($"**#/circuit/{ReportFixtures.CircuitId}");

        // Frontier: the figure inline and the table.
        await page.Locator("#nav-frontier").ClickAsync();
        await page.Locator("#frontier-table").WaitForAsync();
        Assert.Equal(1, await page.Locator("figure.figure svg polyline").CountAsync());
        Assert.Equal(data.Frontier!.Rows.Count, await page.Locator("#frontier-table tbody tr").CountAsync());
        await ScreenshotAsync(page, "frontier.png");

        // A deep link to a node works from a fresh load.
        await page.GotoAsync(new Uri(dir["report.html"]).AbsoluteUri + $"#/circuit/{ReportFixtures.CircuitId}/node/{Uri.EscapeDataString(ReportFixtures.QueryNode)}");
        await Assertions.Expect(page.Locator("#node-panel h2")).ToHaveTextAsync(ReportFixtures.QueryNode);

        watched.AssertClean(IsFile);
    }

    static double ViewBoxWidth(string? viewBox) => double.Parse(viewBox!.Split(' ')[2], CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("empty")]
    [InlineData("degenerate")]
    public async Task Reports_with_nothing_to_show_render_every_view_without_errors(string which)
    {
        var data = which == "empty" ? ReportFixtures.Empty() : ReportFixtures.Degenerate();
        await using var watched = await OpenFileAsync(data);
        var page = watched.Page;
        Assert.Equal(data.Tasks.Count, await page.Locator("table#task-table tbody tr").CountAsync());

        foreach (string route in new[] { "#/embeddings", "#/frontier", "#/circuit/empty", "#/circuit/empty/node/nothing", "#/circuit/no-such-circuit", "#/%E0%A4%A", "#/" })
        {
            await page.EvaluateAsync("h => { location.hash = h; }", route);
            await page.WaitForFunctionAsync("h => location.hash === h", route);
            Assert.True(await page.Locator("main h1").CountAsync() > 0, $"{route} shows a heading");
        }
        if (which == "degenerate")
        {
            await page.EvaluateAsync("() => { location.hash = '#/circuit/empty'; }");
            await Assertions.Expect(page.Locator("#edge-count")).ToHaveTextAsync("0");
            await Assertions.Expect(page.Locator("#graph")).ToContainTextAsync("no nodes");
        }
        watched.AssertClean(IsFile);
    }

    [Fact]
    public async Task Hostile_text_and_figures_neither_run_nor_fetch()
    {
        var data = ReportFixtures.Hostile();
        await using var watched = await OpenFileAsync(data);
        var page = watched.Page;
        Assert.Equal(data.Title, await page.TitleAsync());

        await page.EvaluateAsync($"() => {{ location.hash = '#/circuit/{ReportFixtures.CircuitId}/node/{Uri.EscapeDataString(ReportFixtures.QueryNode)}'; }}");
        await Assertions.Expect(page.Locator("#node-snippets .snippet-group h3")).ToContainTextAsync("</script><script>");
        await Assertions.Expect(page.Locator("#node-snippets .tokens").First).ToContainTextAsync("</script><!--<script>");
        await page.EvaluateAsync("() => { location.hash = '#/frontier'; }");
        Assert.Equal(1, await page.Locator("figure.figure svg").CountAsync());
        Assert.Equal(0, await page.Locator("figure.figure svg script, figure.figure svg image[href]").CountAsync());
        Assert.Null(await page.Locator("figure.figure svg").GetAttributeAsync("onload"));
        await page.Locator("figure.figure svg text").ClickAsync();

        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
        watched.AssertClean(IsFile);
    }

    [Fact]
    public async Task Served_over_http_the_page_works_and_stays_on_the_server()
    {
        using var stop = new CancellationTokenSource();
        using var server = ReportServer.ForReport(ReportFixtures.Synthetic());
        var serving = server.RunAsync(stop.Token);
        string origin = $"http://127.0.0.1:{server.Port}/";
        try
        {
            await using var watched = await browser.OpenAsync(origin);
            var page = watched.Page;
            Assert.Equal(2, await page.Locator("table#task-table tbody tr").CountAsync());
            await page.Locator($"tr[data-task={ReportFixtures.PrunedTask}] a").ClickAsync();
            await page.Locator($"#graph g[data-node='{ReportFixtures.QueryNode}']").ClickAsync();
            await Assertions.Expect(page.Locator("#node-panel h2")).ToHaveTextAsync(ReportFixtures.QueryNode);
            watched.AssertClean(url => url.StartsWith(origin, StringComparison.Ordinal));
        }
        finally
        {
            await stop.CancelAsync();
            await serving.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task The_watcher_sees_console_errors_and_the_page_policy_blocks_outside_requests()
    {
        await using var watched = await OpenFileAsync(ReportFixtures.Empty());
        await watched.Page.EvaluateAsync("() => { console.warn('w'); console.error('e'); new Image().src = 'http://127.0.0.1:9/x.png'; }");
        for (int i = 0; i < 100 && watched.Problems.Count < 4; i++) await Task.Delay(50);

        Assert.Contains(watched.Problems, p => p == "console warning: w");
        Assert.Contains(watched.Problems, p => p == "console error: e");
        // Chromium reports the blocked image as a request that failed, so a stray URL fails the other tests twice.
        Assert.Contains(watched.Problems, p => p.Contains("Content Security Policy", StringComparison.Ordinal));
        Assert.Contains(watched.Problems, p => p.StartsWith("request failed: http://127.0.0.1:9/x.png", StringComparison.Ordinal));
        Assert.Contains(watched.Requests, url => url == "http://127.0.0.1:9/x.png");
    }
}

using Microsoft.Playwright;

namespace SparseCircuits.Tests.Reports;

/// <summary>
/// One headless Debian chromium per test class, driven by Playwright's bundled driver. Playwright's
/// own browsers are never installed (no network): CI installs the apt package <c>chromium</c>.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    IPlaywright? playwright;
    IBrowser? browser;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("the browser is not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install it with `apt-get install -y chromium` (.ci/run does)");
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.CloseAsync();
        playwright?.Dispose();
    }

    /// <summary>A fresh page that records every console error or warning, page error, failed request and request URL.</summary>
    public async Task<WatchedPage> OpenAsync(string url)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var page = await context.NewPageAsync();
        var watched = new WatchedPage(context, page);
        await page.GotoAsync(url);
        return watched;
    }
}

public sealed class WatchedPage : IAsyncDisposable
{
    readonly IBrowserContext context;
    readonly List<string> problems = [];
    readonly List<string> requests = [];

    public WatchedPage(IBrowserContext context, IPage page)
    {
        this.context = context;
        Page = page;
        page.Console += (_, m) => { if (m.Type is "error" or "warning") Add($"console {m.Type}: {m.Text}"); };
        page.PageError += (_, e) => Add($"page error: {e}");
        page.RequestFailed += (_, r) => Add($"request failed: {r.Url} {r.Failure}");
        page.Request += (_, r) => { lock (requests) requests.Add(r.Url); };
    }

    public IPage Page { get; }

    public IReadOnlyList<string> Problems { get { lock (problems) return [.. problems]; } }

    public IReadOnlyList<string> Requests { get { lock (requests) return [.. requests]; } }

    void Add(string problem) { lock (problems) problems.Add(problem); }

    /// <summary>No console error or warning, no uncaught exception, no failed request, and every request to an allowed URL.</summary>
    public void AssertClean(Func<string, bool> allowedRequest)
    {
        Assert.Empty(Problems);
        Assert.NotEmpty(Requests); // at least the page itself: the listener works
        Assert.All(Requests, url => Assert.True(allowedRequest(url), $"unexpected request to {url}"));
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

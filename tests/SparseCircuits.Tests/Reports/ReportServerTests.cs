using SparseCircuits.Tests.Support;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Reports;

namespace SparseCircuits.Tests.Reports;

public sealed class ReportServerTests
{
    /// <summary>A running server over the synthetic report, stopped (and awaited) on dispose.</summary>
    sealed class Running : IAsyncDisposable
    {
        readonly CancellationTokenSource stop = new();
        public ReportServer Server { get; }
        public Task Serving { get; }

        public Running()
        {
            Server = ReportServer.ForReport(ReportFixtures.Synthetic(), port: 0);
            Serving = Server.RunAsync(stop.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await Serving.WaitAsync(TimeSpan.FromSeconds(10));
            Server.Dispose();
            stop.Dispose();
        }
    }

    [Fact]
    public async Task Binds_to_loopback_only_on_a_free_port()
    {
        await using var running = new Running();
        Assert.Equal(IPAddress.Loopback, running.Server.LocalEndpoint.Address);
        Assert.NotEqual(0, running.Server.Port);
        Assert.Equal($"http://127.0.0.1:{running.Server.Port}/", running.Server.Url.ToString());

        // No other address of this machine answers on that port.
        var others = (await Dns.GetHostAddressesAsync(Dns.GetHostName()))
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        foreach (var address in others)
        {
            using var client = new TcpClient();
            await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync(address, running.Server.Port));
        }
    }

    [Fact]
    public async Task Serves_the_page_and_the_data()
    {
        await using var running = new Running();
        using var http = new HttpClient();

        string page = await http.GetStringAsync(running.Server.Url);
        string index = await http.GetStringAsync(new Uri(running.Server.Url, "index.html?x=1"));
        var json = await http.GetAsync(new Uri(running.Server.Url, "report.json"));

        Assert.Equal(ReportHtml.Render(ReportFixtures.Synthetic()), page);
        Assert.Equal(page, index);
        Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"node_profiles\"", await json.Content.ReadAsStringAsync());

        string head = await RawHttp.Send(running.Server.Port, RawHttp.Get("/", running.Server.Port, "HEAD"));
        Assert.Equal("HTTP/1.1 200 OK", RawHttp.StatusLine(head));
        Assert.EndsWith("\r\n\r\n", head);
    }

    [Theory]
    [InlineData("/\u00ff\u00fe")]
    [InlineData("/index.html\u00e9")]
    public async Task A_request_line_with_bytes_outside_ascii_is_400(string target)
    {
        await using var running = new Running();
        string response = await RawHttp.Send(running.Server.Port, RawHttp.Get(target, running.Server.Port));
        Assert.Equal("HTTP/1.1 400 Bad Request", RawHttp.StatusLine(response));
    }

    [Theory]
    [InlineData("/../etc/passwd")]
    [InlineData("/%2e%2e/")]
    [InlineData("/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("//etc/passwd")]
    [InlineData("/index.html/../../x")]
    [InlineData("/./index.html")]
    [InlineData("/index.html/")]
    [InlineData("/INDEX.HTML")]
    [InlineData("/%69ndex.html")]
    [InlineData("/favicon.ico")]
    [InlineData("http://127.0.0.1/etc/passwd")]
    [InlineData("*")]
    public async Task Every_other_path_is_404(string target)
    {
        await using var running = new Running();
        string response = await RawHttp.Send(running.Server.Port, RawHttp.Get(target, running.Server.Port));
        Assert.Equal("HTTP/1.1 404 Not Found", RawHttp.StatusLine(response));
        Assert.DoesNotContain("root:", response);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    public async Task Only_get_and_head_are_allowed(string method)
    {
        await using var running = new Running();
        string response = await RawHttp.Send(running.Server.Port, RawHttp.Get("/", running.Server.Port, method));
        Assert.Equal("HTTP/1.1 405 Method Not Allowed", RawHttp.StatusLine(response));
        Assert.Contains("Allow: GET, HEAD", response);
    }

    [Fact]
    public async Task A_foreign_host_header_and_garbage_are_refused()
    {
        await using var running = new Running();
        int port = running.Server.Port;
        Assert.Equal("HTTP/1.1 403 Forbidden", RawHttp.StatusLine(await RawHttp.Send(port, $"GET / HTTP/1.1\r\nHost: attacker.example:{port}\r\n\r\n")));
        Assert.Equal("HTTP/1.1 200 OK", RawHttp.StatusLine(await RawHttp.Send(port, $"GET / HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n")));
        Assert.Equal("HTTP/1.1 400 Bad Request", RawHttp.StatusLine(await RawHttp.Send(port, "hello\r\n\r\n")));
    }

    [Fact]
    public async Task Stops_when_cancelled_and_frees_the_port()
    {
        using var stop = new CancellationTokenSource();
        using var server = ReportServer.ForReport(ReportFixtures.Empty());
        var serving = server.RunAsync(stop.Token);
        Assert.Equal("HTTP/1.1 200 OK", RawHttp.StatusLine(await RawHttp.Send(server.Port, RawHttp.Get("/", server.Port))));

        await stop.CancelAsync();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));

        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, server.Port));
        // The port is free again.
        using var again = new ReportServer(new Dictionary<string, ServedPage>(), server.Port);
        Assert.Equal(server.Port, again.Port);
    }

    [Fact]
    public void A_port_out_of_range_is_a_user_error()
    {
        var e = Assert.Throws<SparseCircuitsException>(() => ReportServer.ForReport(ReportFixtures.Empty(), port: 70000));
        Assert.Contains("port", e.Message);
    }
}

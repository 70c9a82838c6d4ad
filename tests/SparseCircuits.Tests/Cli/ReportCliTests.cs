using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using SparseCircuits.Tests.Circuits;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Cli;

/// <summary>`circuits report` and `circuits serve` through the real executable.</summary>
public sealed class ReportCliTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Report_writes_one_self_contained_html_file_atomically()
    {
        using var dir = new TempDir();
        string html = dir["out/report.html"];
        Directory.CreateDirectory(dir["out"]);
        var result = CliRunner.Run("report", "--model", run.RunDir, "--out", html, "--profile-tokens", "512", "--quiet");
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains("report: ", result.Stdout);
        string text = File.ReadAllText(html);
        Assert.StartsWith("<!DOCTYPE html>", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("id=\"report-data\"", text);
        Assert.DoesNotContain("src=\"http", text);
        Assert.Equal(["report.html"], Directory.GetFiles(dir["out"]).Select(Path.GetFileName)); // no temporary file left behind
    }

    [Fact]
    public void Report_and_serve_refuse_bad_input_with_one_line()
    {
        using var dir = new TempDir();
        CliRunner.AssertCleanError(CliRunner.Run("report", "--out", dir["r.html"]), "--model is required");
        CliRunner.AssertCleanError(CliRunner.Run("report", "--model", dir["missing"], "--out", dir["r.html"]), "missing");
        CliRunner.AssertCleanError(CliRunner.Run("report", "--model", run.RunDir, "--circuits", dir["nothing"], "--out", dir["r.html"]), "nothing");
        CliRunner.AssertCleanError(CliRunner.Run("serve", "--model", run.RunDir, "--port", "70000"), "--port");
        Assert.False(File.Exists(dir["r.html"]));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Serve_answers_on_loopback_refuses_traversal_and_stops_on_ctrl_c()
    {
        using Process serve = CliRunner.StartInForeground("serve", "--model", run.RunDir, "--port", "0", "--profile-tokens", "512", "--quiet");
        try
        {
            // Read both pipes as lines arrive (an unread pipe can fill up and stall the child).
            var address = new TaskCompletionSource<int>();
            var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
            serve.OutputDataReceived += (_, e) =>
            {
                int at = e.Data?.IndexOf("http://127.0.0.1:", StringComparison.Ordinal) ?? -1;
                if (at >= 0) address.TrySetResult(int.Parse(new string(e.Data![(at + "http://127.0.0.1:".Length)..].TakeWhile(char.IsDigit).ToArray())));
            };
            serve.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.Enqueue(e.Data); };
            serve.BeginOutputReadLine();
            serve.BeginErrorReadLine();
            int port = await Task.WhenAny(address.Task, Task.Delay(TimeSpan.FromMinutes(3))) == address.Task ? await address.Task : 0;
            Assert.True(port > 0, "serve did not print its address: " + string.Join("\n", stderr));

            Assert.StartsWith("HTTP/1.1 200", RawHttp.StatusLine(await RawHttp.Send(port, RawHttp.Get("/", port))));
            Assert.StartsWith("HTTP/1.1 404", RawHttp.StatusLine(await RawHttp.Send(port, RawHttp.Get("/../../etc/passwd", port))));
            Assert.StartsWith("HTTP/1.1 404", RawHttp.StatusLine(await RawHttp.Send(port, RawHttp.Get("/%2e%2e/%2e%2e/etc/passwd", port))));

            CliRunner.Interrupt(serve);
            var stopped = serve.WaitForExitAsync();
            Assert.True(await Task.WhenAny(stopped, Task.Delay(TimeSpan.FromSeconds(60))) == stopped,
                "serve did not stop within 60 s of SIGINT; stderr: " + string.Join("\n", stderr));
            Assert.Equal(0, serve.ExitCode);
            Assert.Throws<SocketException>(() => new TcpClient().Connect("127.0.0.1", port));
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(entireProcessTree: true);
        }
    }
}

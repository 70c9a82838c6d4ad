using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SparseCircuits.Core;

namespace SparseCircuits.Reports;

/// <summary>A page the <see cref="ReportServer"/> serves from memory.</summary>
public sealed record ServedPage(string ContentType, byte[] Body);

/// <summary>
/// Serves a fixed set of in-memory pages on 127.0.0.1 only. A minimal HTTP/1.1 server over a
/// <see cref="TcpListener"/> (no HttpListener: it cannot bind port 0 and it normalises paths, while
/// here the raw request path must match a page exactly, so nothing like <c>/../x</c> is ever resolved).
/// One request per connection; GET and HEAD only; a Host header naming another machine is refused
/// so that a web page elsewhere cannot read the report through DNS rebinding.
/// </summary>
/// <example>
/// <code>
/// using var server = ReportServer.ForReport(data, port: 0);
/// Console.WriteLine($"serving {server.Url}");
/// await server.RunAsync(cancellationToken);   // returns when the token is cancelled
/// </code>
/// </example>
public sealed class ReportServer : IDisposable
{
    const int MaxHeadBytes = 16 * 1024;
    static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    readonly TcpListener listener;
    readonly IReadOnlyDictionary<string, ServedPage> pages;
    int running;

    /// <summary>Binds 127.0.0.1:<paramref name="port"/> at once (0 picks a free port, see <see cref="Port"/>); serving starts with <see cref="RunAsync"/>.</summary>
    public ReportServer(IReadOnlyDictionary<string, ServedPage> pages, int port = 0)
    {
        if (port is < 0 or > 65535) throw new SparseCircuitsException($"port must be 0 (any free port) or 1-65535, got {port}");
        foreach (string path in pages.Keys)
            if (!path.StartsWith('/')) throw new ArgumentException($"page path must start with '/': {path}", nameof(pages));
        this.pages = pages;
        listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            throw new SparseCircuitsException($"cannot listen on 127.0.0.1:{port}: {e.Message}");
        }
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The report page at <c>/</c> and <c>/index.html</c>, its data at <c>/report.json</c>.</summary>
    public static ReportServer ForReport(ReportData data, int port = 0)
    {
        var html = new ServedPage("text/html; charset=utf-8", Encoding.UTF8.GetBytes(ReportHtml.Render(data)));
        var json = new ServedPage("application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(data, Json.Options));
        return new ReportServer(new Dictionary<string, ServedPage>(StringComparer.Ordinal)
        {
            ["/"] = html,
            ["/index.html"] = html,
            ["/report.json"] = json,
        }, port);
    }

    /// <summary>The bound port (the one chosen when 0 was asked for).</summary>
    public int Port { get; }

    public IPEndPoint LocalEndpoint => (IPEndPoint)listener.LocalEndpoint;

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled, then closes the socket and returns once open requests finished.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref running, 1) == 1) throw new InvalidOperationException("the server is already running");
        var open = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                open.RemoveAll(t => t.IsCompleted);
                open.Add(ServeAsync(client, cancellationToken));
            }
        }
        finally
        {
            listener.Stop();
            await Task.WhenAll(open);
        }
    }

    async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            var stream = client.GetStream();
            string? head = await ReadHeadAsync(stream, timeout.Token);
            var response = head is null ? Status(400, "Bad Request") : Respond(head);
            await stream.WriteAsync(response, timeout.Token);
            client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The client went away or was too slow; nothing to answer.
        }
    }

    static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken token)
    {
        var buffer = new byte[MaxHeadBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), token);
            if (read == 0) return null;
            length += read;
            int end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            // Latin-1 keeps every byte as one char, so a non-ASCII byte stays visible to Respond
            // (ASCII decoding turned it into '?', which then read as the start of a query).
            if (end >= 0) return Encoding.Latin1.GetString(buffer, 0, end);
        }
        return null;
    }

    byte[] Respond(string head)
    {
        string[] lines = head.Split("\r\n");
        string[] request = lines[0].Split(' ');
        if (request.Length != 3 || !request[2].StartsWith("HTTP/1.", StringComparison.Ordinal)) return Status(400, "Bad Request");
        string method = request[0], target = request[1];
        if (target.Any(c => c is < '!' or > '~')) return Status(400, "Bad Request"); // raw bytes outside printable ASCII
        if (method is not ("GET" or "HEAD"))
            return Build(405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n"u8.ToArray(), body: true, "Allow: GET, HEAD");
        if (!HostIsLocal(lines)) return Status(403, "Forbidden");
        int query = target.IndexOf('?');
        string path = query >= 0 ? target[..query] : target;
        return pages.TryGetValue(path, out var page)
            ? Build(200, "OK", page.ContentType, page.Body, body: method == "GET")
            : Build(404, "Not Found", "text/plain; charset=utf-8", "not found\n"u8.ToArray(), body: method == "GET");
    }

    bool HostIsLocal(string[] lines)
    {
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0 || !line[..colon].Trim().Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            string host = line[(colon + 1)..].Trim();
            return host == $"127.0.0.1:{Port}" || host == $"localhost:{Port}" || (Port == 80 && host is "127.0.0.1" or "localhost");
        }
        return true; // HTTP/1.0 clients may omit Host; the socket is loopback-only anyway.
    }

    static byte[] Status(int code, string reason) =>
        Build(code, reason, "text/plain; charset=utf-8", Encoding.ASCII.GetBytes(reason.ToLowerInvariant() + "\n"), body: true);

    static byte[] Build(int code, string reason, string contentType, byte[] content, bool body, string? extraHeader = null)
    {
        var headers = new StringBuilder()
            .Append($"HTTP/1.1 {code} {reason}\r\n")
            .Append($"Content-Type: {contentType}\r\n")
            .Append($"Content-Length: {content.Length}\r\n")
            .Append("Cache-Control: no-store\r\n")
            .Append("X-Content-Type-Options: nosniff\r\n")
            .Append("Connection: close\r\n");
        if (extraHeader is not null) headers.Append(extraHeader).Append("\r\n");
        headers.Append("\r\n");
        byte[] head = Encoding.ASCII.GetBytes(headers.ToString());
        return body ? [.. head, .. content] : head;
    }

    public void Dispose() => listener.Stop();
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SparseCircuits.Tests.Support;

/// <summary>
/// HTTP requests written byte for byte over TCP, for the serve tests: HttpClient would normalise
/// the traversal paths they send.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> exactly as given (one byte per char, U+0000..U+00FF) and returns the whole response.</summary>
    public static async Task<string> Send(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>A one-shot request for <paramref name="target"/> with the server's own Host header.</summary>
    public static string Get(string target, int port, string method = "GET") =>
        $"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n";

    public static string StatusLine(string response) => response[..response.IndexOf("\r\n", StringComparison.Ordinal)];
}

using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SparseCircuits.Core;

namespace SparseCircuits.Reports;

/// <summary>
/// The report as one self-contained HTML file: the page sources in <c>Reports/Web</c> (embedded in
/// the assembly) with their CSS, JavaScript and the <see cref="ReportData"/> JSON inlined. It opens
/// from file:// and fetches nothing; its Content-Security-Policy forbids every request.
/// </summary>
public static partial class ReportHtml
{
    static readonly Lazy<(string Html, string Css, string Js)> Sources = new(() =>
    {
        var (html, css, js) = (Resource("report.html"), Resource("report.css"), Resource("report.js"));
        // The sources are inlined into <style> and <script>; a closing tag inside them would end the element early.
        if (css.Contains("</style", StringComparison.OrdinalIgnoreCase) || js.Contains("</script", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("report.css or report.js contains a closing tag that would break the inlined page");
        return (html, css, js);
    });

    public static string Render(ReportData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (html, css, js) = Sources.Value;
        var values = new Dictionary<string, string>
        {
            ["TITLE"] = WebUtility.HtmlEncode(data.Title),
            ["CSS"] = css,
            ["JS"] = js,
            ["DATA"] = DataJson(data),
        };
        // One pass over the template only: text that is inserted is never searched for placeholders.
        return Placeholder().Replace(html, m => values[m.Groups[1].Value]);
    }

    /// <summary>Writes the page atomically.</summary>
    public static void Write(ReportData data, string path) => AtomicFile.WriteAllText(path, Render(data));

    /// <summary>
    /// The data as JSON safe inside a <c>&lt;script&gt;</c> element: '&lt;', '&gt;' and '&amp;' only occur inside
    /// JSON strings, where their \u escapes mean the same, so no token text can close the element or open a comment.
    /// </summary>
    public static string DataJson(ReportData data)
    {
        string json = JsonSerializer.Serialize(data, Json.Compact);
        var sb = new StringBuilder(json.Length + 64);
        foreach (char ch in json)
        {
            switch (ch)
            {
                case '<': sb.Append("\\u003c"); break;
                case '>': sb.Append("\\u003e"); break;
                case '&': sb.Append("\\u0026"); break;
                case '\u2028': sb.Append("\\u2028"); break;
                case '\u2029': sb.Append("\\u2029"); break;
                default: sb.Append(ch); break;
            }
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"\{\{(TITLE|CSS|JS|DATA)\}\}")]
    private static partial Regex Placeholder();

    static string Resource(string name)
    {
        var assembly = typeof(ReportHtml).Assembly;
        string resource = "SparseCircuits.Reports.Web." + name;
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing from {assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

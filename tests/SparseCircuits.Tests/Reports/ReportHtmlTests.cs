using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using SparseCircuits.Core;
using SparseCircuits.Reports;

namespace SparseCircuits.Tests.Reports;

public sealed partial class ReportHtmlTests
{
    [GeneratedRegex("""<script type="application/json" id="report-data">(.*?)</script>""", RegexOptions.Singleline)]
    private static partial Regex DataScript();

    internal static string ExtractDataJson(string html)
    {
        var matches = DataScript().Matches(html);
        Assert.Single(matches);
        return matches[0].Groups[1].Value;
    }

    [Fact]
    public void Page_is_self_contained()
    {
        string html = ReportHtml.Render(ReportFixtures.Synthetic());

        Assert.StartsWith("<!DOCTYPE html>", html);
        foreach (string forbidden in new[] { "src=\"http", "href=\"http", "src='http", "href='http", "@import", "url(http", "url(//", "src=\"//", "href=\"//" })
            Assert.DoesNotContain(forbidden, html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("{{", html.Replace(ExtractDataJson(html), ""), StringComparison.Ordinal);
        // Exactly the three elements of the template: style, data, code.
        Assert.Equal(2, Regex.Matches(html, "<script").Count);
        Assert.Single(Regex.Matches(html, "<style"));
        Assert.Contains("Content-Security-Policy", html);
    }

    [Fact]
    public void Embedded_data_round_trips()
    {
        var data = ReportFixtures.Synthetic();
        string json = ExtractDataJson(ReportHtml.Render(data));

        var back = JsonSerializer.Deserialize<ReportData>(json, Json.Compact)!;

        Assert.Equal(data.Title, back.Title);
        Assert.Equal(data.Tasks.Count, back.Tasks.Count);
        Assert.Equal(data.Circuits.Count, back.Circuits.Count);
        Assert.Equal(data.Circuits[0].Nodes.Count, back.Circuits[0].Nodes.Count);
        Assert.Equal(data.Circuits[0].Edges.Count, back.Circuits[0].Edges.Count);
        Assert.Equal(data.NodeProfiles.Count, back.NodeProfiles.Count);
        Assert.Equal(data.Embeddings.Channels.Count, back.Embeddings.Channels.Count);
        Assert.Equal(data.TrainingCurve.Count, back.TrainingCurve.Count);
        Assert.Equal(data.Model, back.Model with { Config = data.Model.Config });
        Assert.Equal(data.Model.Config, back.Model.Config);
        Assert.Equal(data.Circuits[0].Validation, back.Circuits[0].Validation);
        Assert.Equal(data.Frontier!.Figures[0].Svg, back.Frontier!.Figures[0].Svg);
        // snake_case names, as the page reads them.
        Assert.Contains("\"node_profiles\":", json);
        Assert.Contains("\"max_abs_weight\":", json);
        Assert.Contains("\"task_activations\":", json);
    }

    [Fact]
    public void Text_with_closing_tags_and_comments_cannot_break_out_of_the_data_script()
    {
        var data = ReportFixtures.Hostile();
        string html = ReportHtml.Render(data);
        string json = ExtractDataJson(html);

        // The page still has exactly its own two scripts, and the data element ends where the JSON ends.
        Assert.Equal(2, Regex.Matches(html, "<script", RegexOptions.IgnoreCase).Count);
        Assert.DoesNotContain("<", json);
        Assert.DoesNotContain(">", json);
        Assert.DoesNotContain("\u2028", json);
        Assert.Contains($"<title>{WebUtility.HtmlEncode(data.Title)}</title>", html);
        var back = JsonSerializer.Deserialize<ReportData>(json, Json.Compact)!;
        var original = data.NodeProfiles[ReportFixtures.QueryNode].Snippets[0];
        var roundTripped = back.NodeProfiles[ReportFixtures.QueryNode].Snippets[0];
        Assert.Equal(original.Label, roundTripped.Label);
        Assert.Equal(original.Snippets[0].Tokens, roundTripped.Snippets[0].Tokens);
        Assert.Equal(data.Frontier!.Figures[0].Svg, back.Frontier!.Figures[0].Svg);
    }

    [Fact]
    public void Every_fixture_renders_a_page_whose_data_round_trips()
    {
        foreach (var data in new[] { ReportFixtures.Empty(), ReportFixtures.Degenerate(), ReportFixtures.Hostile() })
        {
            string html = ReportHtml.Render(data);
            Assert.Equal(2, Regex.Matches(html, "<script", RegexOptions.IgnoreCase).Count);
            var back = JsonSerializer.Deserialize<ReportData>(ExtractDataJson(html), Json.Compact)!;
            Assert.Equal(data.Title, back.Title);
            Assert.Equal(data.Circuits.Select(c => c.Nodes.Count), back.Circuits.Select(c => c.Nodes.Count));
            Assert.Equal(data.Circuits.Select(c => c.Edges.Count), back.Circuits.Select(c => c.Edges.Count));
            Assert.Equal(data.Tasks.Count, back.Tasks.Count);
            Assert.Equal(data.NodeProfiles.Keys.Order(), back.NodeProfiles.Keys.Order());
            Assert.Equal(data.TrainingCurve.Count, back.TrainingCurve.Count);
            Assert.Equal(data.Frontier is null, back.Frontier is null);
        }
    }

    [Fact]
    public void Write_puts_the_page_on_disk_replacing_an_old_one_without_leftovers()
    {
        using var dir = new Support.TempDir();
        string path = dir.Write("out/report.html", "an older report");
        ReportHtml.Write(ReportFixtures.Synthetic(), path);
        Assert.Equal(ReportHtml.Render(ReportFixtures.Synthetic()), File.ReadAllText(path));
        Assert.Equal(["report.html"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName)); // no temporary file left
    }

    [Fact]
    public void The_viewer_spells_no_hook_site_and_takes_the_location_order_from_the_data()
    {
        using var stream = typeof(ReportData).Assembly.GetManifestResourceStream("SparseCircuits.Reports.Web.report.js")!;
        string script = new StreamReader(stream).ReadToEnd();
        foreach (string site in SparseCircuits.Model.HookPoints.LayerSites)
            Assert.DoesNotContain($"'{site}'", script); // sites are declared once, in C# (HookPoints)
        string json = ExtractDataJson(ReportHtml.Render(ReportFixtures.Synthetic()));
        Assert.Contains("\"locations\":[\"attn.act_in\",\"attn.q\",\"attn.k\",\"attn.v\",\"attn.resid_delta\",\"mlp.act_in\",\"mlp.post_act\",\"mlp.resid_delta\"]", json);
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Tasks;

/// <summary>Paper-style short prompts (the default) against the scaffold variant.</summary>
public sealed class PromptContextTests
{
    public static TheoryData<string> PaperTaskNames => [.. TaskRegistry.PaperNames];

    static int Lines(string prompt) => prompt.Count(c => c == '\n') + 1;

    [Theory]
    [MemberData(nameof(PaperTaskNames))]
    public void Short_prompts_are_a_few_lines_and_shorter_than_the_scaffold(string name)
    {
        ContrastTask task = TaskRegistry.Get(name);
        var shortPairs = task.Pairs(null, 200, seed: 1).ToList();
        var scaffoldPairs = task.Pairs(null, 200, seed: 1, PromptContext.Scaffold).ToList();
        Assert.Equal(200, shortPairs.Count);
        double shortMean = shortPairs.Average(p => p.Positive.Length), scaffoldMean = scaffoldPairs.Average(p => p.Positive.Length);
        Assert.True(shortMean < 0.8 * scaffoldMean, $"short {shortMean:0} chars vs scaffold {scaffoldMean:0}");
        var lines = shortPairs.Select(p => Lines(p.Positive)).Order().ToList();
        Assert.True(lines[lines.Count / 2] <= 6, $"median short prompt has {lines[lines.Count / 2]} lines");
        Assert.True(lines[^1] <= 12, $"longest short prompt has {lines[^1]} lines");
        // No file header in a short prompt.
        Assert.DoesNotContain(shortPairs, p => p.Positive.StartsWith("import ", StringComparison.Ordinal) || p.Positive.StartsWith("\"\"\"", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(PaperTaskNames))]
    public void Short_pairs_differ_only_in_the_cue_region_before_the_end(string name)
    {
        foreach (ContrastPair pair in TaskRegistry.Get(name).Pairs(null, 100, seed: 3))
        {
            CueRegion region = pair.Difference(wholeWords: false);
            Assert.True(region.PositiveLength + region.NegativeLength > 0);
            Assert.NotEqual(pair.Tok, pair.Alt);
        }
    }

    [Fact]
    public void Bracket_counting_distractors_come_only_with_the_scaffold()
    {
        var task = TaskRegistry.Get("bracket_counting");
        static bool HasEarlierList(ContrastPair p) => p.Negative[..Math.Max(0, p.Negative.LastIndexOf('\n'))].Contains('[');
        Assert.DoesNotContain(task.Pairs(null, 300, seed: 2), HasEarlierList);
        Assert.Contains(task.Pairs(null, 300, seed: 2, PromptContext.Scaffold), HasEarlierList);
    }

    [Fact]
    public void Short_single_double_quote_closes_a_call_string_as_in_the_paper()
    {
        foreach (ContrastPair pair in TaskRegistry.Get("single_double_quote").Pairs(null, 200, seed: 0))
        {
            Assert.StartsWith("\")", pair.Tok);
            Assert.StartsWith("')", pair.Alt);
        }
    }

    [Fact]
    public void Var_swap_indents_the_swap_to_its_block()
    {
        foreach (ContrastPair pair in TaskRegistry.Get("var_swap").Pairs(null, 300, seed: 0))
        {
            string[] lines = pair.Positive.Split('\n');
            int Indent(string line) => line.Length - line.TrimStart(' ').Length;
            if (lines.Length == 1) { Assert.False(lines[0].StartsWith(' '), pair.Positive); continue; }
            string previous = lines[^2];
            // After a block header one level deeper; otherwise at most the previous line's depth (a dedent is fine).
            bool ok = previous.TrimEnd().EndsWith(':') ? Indent(lines[^1]) == Indent(previous) + 4 : Indent(lines[^1]) <= Indent(previous);
            Assert.True(ok && Indent(lines[^1]) % 4 == 0, pair.Positive);
        }
    }

    [Fact]
    public void Built_in_task_sources_record_the_context_and_old_sources_mean_the_scaffold()
    {
        string source = TaskSource.BuiltInSource("for_while", PromptContext.Short);
        Assert.Equal("builtin:for_while?context=short", source);
        Assert.True(TaskSource.TryParseBuiltIn(source, out string name, out PromptContext context));
        Assert.Equal(("for_while", PromptContext.Short), (name, context));
        Assert.True(TaskSource.TryParseBuiltIn("builtin:for_while", out name, out context));
        Assert.Equal(("for_while", PromptContext.Scaffold), (name, context));
        Assert.False(TaskSource.TryParseBuiltIn("/tmp/x.jsonl", out _, out _));
        Assert.Throws<SparseCircuitsException>(() => TaskSource.TryParseBuiltIn("builtin:for_while?context=long", out _, out _));
    }

    [Theory]
    [InlineData("short", PromptContext.Short)]
    [InlineData("Scaffold", PromptContext.Scaffold)]
    public void Context_names_parse(string text, PromptContext expected) => Assert.Equal(expected, PromptContexts.Parse(text));

    [Theory]
    [InlineData("long")]
    [InlineData("1")]
    [InlineData("")]
    public void Unknown_context_names_are_user_errors(string text) =>
        Assert.Contains("--context must be short or scaffold", Assert.Throws<SparseCircuitsException>(() => PromptContexts.Parse(text)).Message);
}

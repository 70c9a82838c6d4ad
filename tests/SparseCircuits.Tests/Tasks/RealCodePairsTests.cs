using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Tasks;

/// <summary>The real-code variant: pairs cut from real files, edited only in the cue.</summary>
public sealed class RealCodePairsTests
{
    const string File1 = """
        import os

        def report(items):
            total = 0
            for item in items:
                total += item
            print("Done")
            sizes = [1, 2, count]
            return total
        """;

    static CorpusDocument Doc(string path, string text) => new(path, Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(text)), text);

    static List<ContrastPair> Mine(string task, params CorpusDocument[] docs) => RealCodePairs.Mine(task, docs, 100).Select(p => p.Pair).ToList();

    [Fact]
    public void Quote_pairs_swap_only_the_opening_quote_and_keep_real_context()
    {
        var pair = Assert.Single(Mine("single_double_quote", Doc("a.py", File1)));
        Assert.Equal("    total = 0\n    for item in items:\n        total += item\n    print(\"Done", pair.Positive[pair.Positive.IndexOf("    total", StringComparison.Ordinal)..]);
        Assert.Equal(pair.Positive.Replace("(\"Done", "('Done"), pair.Negative);
        Assert.Equal(("\")\n", "')\n"), (pair.Tok, pair.Alt));
        // Context: the real lines before the cue line, at most RealCodePairs.ContextLines of them.
        Assert.Equal(RealCodePairs.ContextLines, pair.Positive.Count(c => c == '\n'));
    }

    [Fact]
    public void Bracket_pairs_nest_the_real_list_once_more()
    {
        var pair = Assert.Single(Mine("bracket_counting", Doc("a.py", File1)));
        Assert.EndsWith("    sizes = [[1, 2, count", pair.Positive);
        Assert.EndsWith("    sizes = [1, 2, count", pair.Negative);
        Assert.Equal(("]]\n", "]\n"), (pair.Tok, pair.Alt));
    }

    [Fact]
    public void For_while_pairs_replace_the_keyword_of_a_real_for_header()
    {
        var pair = Assert.Single(Mine("for_while", Doc("a.py", File1)));
        Assert.EndsWith("\n    for item", pair.Positive);
        Assert.EndsWith("\n    while item", pair.Negative);
        Assert.Equal((" in items:\n", ":\n"), (pair.Tok, pair.Alt));
    }

    [Fact]
    public void Generated_programs_and_lines_inside_open_strings_or_brackets_are_skipped()
    {
        Assert.Empty(Mine("single_double_quote", Doc(CorpusBuilder.SyntheticPathPrefix + "0000001.py", "print(\"Done\")\n")));
        Assert.Empty(Mine("single_double_quote", Doc("b.py", "x = f(\n    1,\nprint(\"Done\")\n")));
        Assert.Empty(Mine("single_double_quote", Doc("c.py", "\"\"\"doc\nprint(\"Done\")\n")));
        // A string ending in punctuation would fuse with the closing quote: no pair.
        Assert.Empty(Mine("single_double_quote", Doc("d.py", "print(\"Done.\")\n")));
    }

    [Fact]
    public void Mined_pairs_are_distinct_split_and_round_trip_through_a_task_file()
    {
        var docs = Enumerable.Range(0, 50).Select(i => Doc($"m{i}.py", $"x{i} = {i}\nprint(\"Value number{i}\")\nfor k{i} in range({i}):\n    pass\n")).ToArray();
        var pairs = RealCodePairs.Mine("for_while", docs, 1000);
        Assert.Equal(50, pairs.Count);
        Assert.Equal(50, pairs.Select(p => p.Pair.Positive).Distinct().Count());
        Assert.True(pairs.Select(p => p.Split).Distinct().Count() >= 2);
        Assert.Equal(10, RealCodePairs.Mine("for_while", docs, 10).Count);
        using var dir = new Support.TempDir();
        string file = dir["for_while.jsonl"];
        CustomTaskFile.Write(file, pairs);
        Assert.Equal(pairs.Select(p => p.Pair.Positive), CustomTaskFile.Read(file).Select(l => l.Text!.Positive));
    }

    [Fact]
    public void Tasks_without_a_miner_are_user_errors()
    {
        var e = Assert.Throws<SparseCircuitsException>(() => RealCodePairs.Mine("var_swap", [], 10));
        Assert.Contains("no real-code variant for task 'var_swap'", e.Message);
    }
}

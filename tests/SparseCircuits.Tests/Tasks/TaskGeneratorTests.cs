using SparseCircuits.Core;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Tasks;

/// <summary>The generators on raw text: names, determinism, splits, single-cue differences, size of the template space.</summary>
public sealed class TaskGeneratorTests
{
    public static TheoryData<string> TaskNames => [.. TaskRegistry.Names];
    public static TheoryData<string> PaperTaskNames => [.. TaskRegistry.PaperNames];
    public static TheoryData<string> ShortTaskNames => [.. TaskRegistry.ShortContext.Select(t => t.Name)];

    [Fact]
    public void Registry_holds_the_20_tasks_of_the_paper_by_name()
    {
        string[] paper =
        [
            "single_double_quote", "final_kwarg", "set_or_string", "set_or_string_fixedvarname", "class_init", "with_as",
            "bracket_brace", "with_open", "bracket_counting", "for_while", "else_elif", "fstring_brace", "if_ternary",
            "var_swap", "indent_for", "lambda_func", "if_equals", "enumerate_range", "var_if", "while_return_true",
        ];
        Assert.Equal(paper, TaskRegistry.PaperNames);
        Assert.Equal([.. paper, "quote_assign", "quote_call", "bracket_paren"], TaskRegistry.Names);
        foreach (ContrastTask task in TaskRegistry.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(task.Description));
            Assert.False(string.IsNullOrWhiteSpace(task.Cue));
            Assert.NotEqual(task.TokLabel, task.AltLabel);
        }
        var e = Assert.Throws<SparseCircuitsException>(() => TaskRegistry.Get("bracket_count"));
        Assert.Contains("unknown task 'bracket_count'", e.Message);
        Assert.Contains("bracket_counting", e.Message);
    }

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void Same_seed_gives_identical_pairs_and_another_seed_other_pairs(string name)
    {
        ContrastTask task = TaskRegistry.Get(name);
        var first = task.Pairs(null, 40, seed: 5).ToList();
        Assert.Equal(first, task.Pairs(null, 40, seed: 5).ToList());
        // A prefix of the stream does not depend on how much is asked for.
        Assert.Equal(first.Take(10), task.Pairs(null, 10, seed: 5));
        Assert.Equal(task.Pairs(TaskSplit.Test, 8, seed: 5), task.Pairs(TaskSplit.Test, 20, seed: 5).Take(8));
        var other = task.Pairs(null, 40, seed: 6).ToList();
        Assert.True(first.Intersect(other).Count() < 4, "a different seed should give different pairs");
    }

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void Splits_are_disjoint_and_roughly_60_20_20(string name)
    {
        ContrastTask task = TaskRegistry.Get(name);
        var stream = task.Stream(seed: 1).Take(1000).ToList();
        var promptsBySplit = stream.GroupBy(p => p.Split)
            .ToDictionary(g => g.Key, g => g.SelectMany(p => new[] { p.Pair.Positive, p.Pair.Negative }).ToHashSet());
        Assert.Equal(3, promptsBySplit.Count);
        foreach (var (a, promptsA) in promptsBySplit)
            foreach (var (b, promptsB) in promptsBySplit)
                if (a < b) Assert.Empty(promptsA.Intersect(promptsB));
        int train = stream.Count(p => p.Split == TaskSplit.Train), test = stream.Count(p => p.Split == TaskSplit.Test);
        Assert.InRange(train, 520, 680);
        Assert.InRange(test, 140, 260);

        // Asking for one split yields exactly the stream's pairs of that split, and a pair's split is a function of the pair.
        var testPairs = task.Pairs(TaskSplit.Test, 30, seed: 1).ToList();
        Assert.Equal(stream.Where(p => p.Split == TaskSplit.Test).Select(p => p.Pair).Take(30), testPairs);
        Assert.All(testPairs, p => Assert.Equal(TaskSplit.Test, TaskSplits.Of(p)));
        Assert.Equal(TaskSplits.Of(testPairs[0]), TaskSplits.Of(testPairs[0] with { Positive = testPairs[0].Negative, Negative = testPairs[0].Positive }));
    }

    /// <summary>The prompts differ in one short single-line region, and that region is the cue.</summary>
    [Theory]
    [InlineData("single_double_quote", "\"", "'")]
    [InlineData("final_kwarg", "=", "")]
    [InlineData("set_or_string", "set()", "")]
    [InlineData("set_or_string_fixedvarname", "set()", "")]
    [InlineData("class_init", "", "")]
    [InlineData("with_as", "with", "=")]
    [InlineData("bracket_brace", "{", "[")]
    [InlineData("with_open", "", "")]
    [InlineData("bracket_counting", "[", "")]
    [InlineData("for_while", "for", "while")]
    [InlineData("else_elif", "else", "elif")]
    [InlineData("fstring_brace", "f", "")]
    [InlineData("if_ternary", "", " ")]
    [InlineData("var_swap", "", "")]
    [InlineData("indent_for", "for ", "")]
    [InlineData("lambda_func", "lambda", "def")]
    [InlineData("if_equals", "if ", "")]
    [InlineData("enumerate_range", ", ", "")]
    [InlineData("var_if", "", "if ")]
    [InlineData("while_return_true", "while", "return")]
    public void Prompts_differ_only_in_one_contiguous_region_holding_the_cue(string name, string positiveCue, string negativeCue)
    {
        foreach (ContrastPair pair in TaskRegistry.Get(name).Pairs(null, 300, seed: 2))
        {
            CueRegion region = pair.Difference();
            string p = pair.Positive.Substring(region.Start, region.PositiveLength);
            string n = pair.Negative.Substring(region.Start, region.NegativeLength);
            // Outside the region the prompts are the same text (the definition of the region).
            Assert.Equal(pair.Positive[..region.Start], pair.Negative[..region.Start]);
            Assert.Equal(pair.Positive[(region.Start + region.PositiveLength)..], pair.Negative[(region.Start + region.NegativeLength)..]);
            Assert.True(p.Length + n.Length > 0);
            Assert.True(p.Length <= 60 && n.Length <= 60, $"{name}: cue region too long: '{p}' vs '{n}'");
            Assert.DoesNotContain('\n', p);
            Assert.DoesNotContain('\n', n);
            // Widened to whole names, the region holds the cue.
            CueRegion words = pair.Difference(wholeWords: true);
            Assert.True(words.Start <= region.Start && words.PositiveLength >= region.PositiveLength);
            Assert.Contains(positiveCue, pair.Positive.Substring(words.Start, words.PositiveLength));
            Assert.Contains(negativeCue, pair.Negative.Substring(words.Start, words.NegativeLength));
        }
    }

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void Each_task_has_at_least_2000_distinct_pairs(string name)
    {
        var pairs = TaskRegistry.Get(name).Pairs(null, 2000, seed: 0).ToList();
        Assert.Equal(2000, pairs.Count);
        Assert.Equal(4000, pairs.SelectMany(p => new[] { p.Positive, p.Negative }).Distinct().Count());
        // Not just a different file header: the code right before the answer varies too.
        int endings = pairs.Select(p => string.Join('\n', p.Positive.Split('\n')[^Math.Min(3, p.Positive.Split('\n').Length)..])).Distinct().Count();
        Assert.True(endings >= 1000, $"{name}: only {endings} distinct last-three-line endings in 2000 pairs");
    }

    [Theory]
    [MemberData(nameof(ShortTaskNames))]
    public void Short_context_prompts_are_one_line_with_the_cue_within_a_few_words_of_the_end(string name)
    {
        var pairs = TaskRegistry.Get(name).Pairs(null, 300, seed: 4).ToList();
        Assert.All(pairs, p =>
        {
            Assert.NotEqual(p.Tok, p.Alt);
            Assert.DoesNotContain('\n', p.Positive);
            Assert.True(p.Positive.Length <= 60, p.Positive);
            CueRegion cue = p.Difference();
            Assert.Equal((1, 1), (cue.PositiveLength, cue.NegativeLength)); // one quote or bracket character
            // After the cue: at most two words (or one argument), never a long tail.
            string after = p.Positive[(cue.Start + 1)..];
            Assert.True(after.Length <= 24 && after.Count(ch => ch == ' ') <= 1, $"cue too far from the end: {p.Positive}");
        });
        Assert.True(pairs.Select(p => Indentation(p)).Distinct().Count() >= 2, $"{name}: always the same indentation");
        Assert.True(pairs.Select(p => p.Positive).Distinct().Count() == 300);
    }

    [Theory]
    [MemberData(nameof(PaperTaskNames))]
    public void Scaffold_answers_differ_and_prompt_lengths_vary(string name)
    {
        var pairs = TaskRegistry.Get(name).Pairs(null, 300, seed: 4, PromptContext.Scaffold).ToList();
        Assert.All(pairs, p => Assert.NotEqual(p.Tok, p.Alt));
        var lengths = pairs.Select(p => p.Positive.Length).ToList();
        Assert.True(lengths.Max() - lengths.Min() > 200, $"{name}: prompt lengths {lengths.Min()}..{lengths.Max()}");
        Assert.True(lengths.Max() < 900, $"{name}: prompt of {lengths.Max()} characters");
        Assert.True(pairs.Select(p => Indentation(p)).Distinct().Count() >= 2, $"{name}: always the same indentation");
    }

    static string CueLine(ContrastPair pair)
    {
        int start = pair.Difference().Start;
        int from = pair.Positive.LastIndexOf('\n', Math.Max(0, start - 1)) + 1;
        int to = pair.Positive.IndexOf('\n', start);
        return pair.Positive[from..(to < 0 ? pair.Positive.Length : to)];
    }

    static int Indentation(ContrastPair pair)
    {
        string line = CueLine(pair);
        return line.Length - line.TrimStart(' ').Length;
    }
}

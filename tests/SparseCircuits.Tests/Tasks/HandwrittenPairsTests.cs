using SparseCircuits.Core;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Tasks;

/// <summary>The hand-written pairs shipped with the library: one file per paper task, well-formed contrast pairs.</summary>
public sealed class HandwrittenPairsTests
{
    public static TheoryData<string> PaperTasks() => [.. TaskRegistry.Paper.Select(t => t.Name)];

    [Fact]
    public void Every_paper_task_has_hand_written_pairs()
    {
        Assert.Equal(TaskRegistry.Paper.Select(t => t.Name), HandwrittenPairs.Tasks);
    }

    [Theory]
    [MemberData(nameof(PaperTasks))]
    public void Pairs_are_distinct_test_pairs_that_differ_only_in_a_short_cue(string task)
    {
        var pairs = HandwrittenPairs.Read(task);
        Assert.True(pairs.Count >= 10, $"{task}: {pairs.Count} pairs");
        Assert.All(pairs, p => Assert.Equal(TaskSplit.Test, p.Split));
        var texts = pairs.Select(p => p.Text ?? throw new Xunit.Sdk.XunitException($"{task}:{p.Line} is not a text pair")).ToList();
        Assert.Equal(texts.Count, texts.Select(t => t.Positive).Distinct().Count());
        foreach (ContrastPair pair in texts)
        {
            // Strip the common prefix and suffix: what remains on each side is the cue.
            string a = pair.Positive, b = pair.Negative;
            int prefix = 0;
            while (prefix < Math.Min(a.Length, b.Length) && a[prefix] == b[prefix]) prefix++;
            int suffix = 0;
            while (suffix < Math.Min(a.Length, b.Length) - prefix && a[^(suffix + 1)] == b[^(suffix + 1)]) suffix++;
            int cue = Math.Max(a.Length, b.Length) - prefix - suffix;
            Assert.True(cue is > 0 and <= 40, $"{task}: the prompts differ in {cue} characters: {a} / {b}");
            Assert.NotEqual(pair.Tok, pair.Alt);
        }
    }

    [Theory]
    [MemberData(nameof(PaperTasks))]
    public void Most_pairs_stay_usable_under_a_small_code_tokenizer(string task)
    {
        // The checks of built-in pairs apply (answer boundaries, distinct first tokens); a few
        // pairs may fall to this test tokenizer's merges, most must not.
        TaskDataset data = TaskDataset.FromHandwritten(TaskRegistry.Get(task), TaskTokenizer.Code);
        Assert.Null(data.UnavailableReason);
        Assert.Equal(task, data.Name);
        Assert.True(data.Pairs.Count >= data.Candidates * 2 / 3, $"{task}: {data.Pairs.Count} of {data.Candidates} usable; dropped {string.Join(", ", data.Dropped)}");
        Assert.Equal(3, TaskDataset.FromHandwritten(TaskRegistry.Get(task), TaskTokenizer.Code, count: 3).Pairs.Count);
    }

    [Fact]
    public void A_task_without_hand_written_pairs_is_a_clean_error()
    {
        var error = Assert.Throws<SparseCircuitsException>(() => HandwrittenPairs.Read("no_such_task"));
        Assert.Contains("no hand-written pairs", error.Message);
        Assert.Contains("single_double_quote", error.Message);
        Assert.False(HandwrittenPairs.Has("no_such_task"));
    }
}

using SparseCircuits.Core;
using SparseCircuits.Reports;

namespace SparseCircuits.Tests.Reports;

/// <summary>Quantiles and snippet buckets on hand-made activations 0..999 in shuffled order.</summary>
public sealed class ActivationProfileTests
{
    /// <summary>Activation = rank (0..999) at shuffled positions; token id = position % 7; windows of 10 positions.</summary>
    static (float[] Activations, ProfileText Text) Ranks(int windowLength = 10)
    {
        var random = new SplitMix64(5);
        int[] order = Enumerable.Range(0, 1000).ToArray();
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)random.NextBelow((ulong)i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        float[] activations = order.Select(r => (float)r).ToArray();
        var text = new ProfileText(Enumerable.Range(0, 1000).Select(p => p % 7).ToArray(), windowLength, Enumerable.Range(0, 7).Select(t => $"t{t}").ToList());
        return (activations, text);
    }

    [Fact]
    public void Quantiles_interpolate_between_order_statistics()
    {
        var (activations, text) = Ranks();
        NodeProfile profile = ActivationProfile.Build(activations, text, new SnippetSettings(1, 0, 0), seed: 1);
        Assert.Equal(1000, profile.TokensSeen);
        Assert.Equal(0, profile.Min);
        Assert.Equal(999, profile.Max);
        Assert.Equal(499.5, profile.MeanActivation);
        var q = profile.Quantiles.ToDictionary(v => v.Quantile, v => v.Value);
        Assert.Equal([0, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1], profile.Quantiles.Select(v => v.Quantile));
        Assert.Equal(0.999, q[0.001], 9);
        Assert.Equal(9.99, q[0.01], 9);
        Assert.Equal(499.5, q[0.5], 9);
        Assert.Equal(989.01, q[0.99], 9);
        Assert.Equal(998.0, q[0.999], 2); // 998.001 rounded to 5 significant digits
        Assert.Equal(999, q[1]);
    }

    [Theory]
    [InlineData(true, 0.001, 999, 999)]
    [InlineData(true, 0.01, 990, 999)]
    [InlineData(true, 0.1, 900, 999)]
    [InlineData(false, 0.01, 0, 9)]
    [InlineData(false, 0.1, 0, 99)]
    [InlineData(false, 0.5, 0, 499)]
    public void A_bucket_holds_exactly_the_activations_beyond_its_quantile(bool top, double fraction, int lowest, int highest)
    {
        var (activations, text) = Ranks();
        // Snippets of one token and room for every position: the bucket's snippets are its members.
        NodeProfile profile = ActivationProfile.Build(activations, text, new SnippetSettings(10_000, 0, 0), seed: 3);
        SnippetGroup group = profile.Snippets.Single(g => g.Top == top && g.Fraction == fraction);
        Assert.Equal($"{(top ? "top" : "bottom")} {fraction * 100}%", group.Label);
        var focusValues = group.Snippets.Select(s => (int)s.Activations[s.Focus]).Order().ToList();
        Assert.Equal(Enumerable.Range(lowest, highest - lowest + 1), focusValues);
    }

    [Fact]
    public void Snippets_show_their_window_stay_inside_one_context_and_never_overlap()
    {
        var (activations, text) = Ranks(windowLength: 10);
        var settings = new SnippetSettings(5, Before: 3, After: 2);
        NodeProfile profile = ActivationProfile.Build(activations, text, settings, seed: 7);
        Assert.Equal(8, profile.Snippets.Count);
        foreach (SnippetGroup group in profile.Snippets)
        {
            // 0.1% of 1000 is one position; from 10% on there is room for all five.
            Assert.Equal(group.Fraction switch { 0.001 => 1, >= 0.1 => 5, _ => group.Snippets.Count }, group.Snippets.Count);
            Assert.InRange(group.Snippets.Count, 1, 5);
            var spans = new List<(int Start, int End)>();
            foreach (Snippet s in group.Snippets)
            {
                int focus = Array.IndexOf(activations, s.Activations[s.Focus]); // ranks are unique
                Assert.True(group.Top ? activations[focus] >= group.Threshold : activations[focus] <= group.Threshold);
                int start = focus - s.Focus, end = start + s.Tokens.Count - 1;
                Assert.Equal(start / 10, end / 10); // one context window
                Assert.Equal(Math.Max(focus / 10 * 10, focus - 3), start);
                Assert.Equal(Math.Min(focus / 10 * 10 + 9, focus + 2), end);
                Assert.Equal(Enumerable.Range(start, s.Tokens.Count).Select(p => $"t{p % 7}"), s.Tokens);
                Assert.Equal(Enumerable.Range(start, s.Tokens.Count).Select(p => activations[p]), s.Activations);
                Assert.DoesNotContain(spans, o => o.Start <= end && start <= o.End);
                spans.Add((start, end));
            }
        }
    }

    [Fact]
    public void Snippet_choice_is_seeded()
    {
        var (activations, text) = Ranks();
        var settings = new SnippetSettings(3, 2, 2);
        string Focuses(ulong seed) => string.Join(",", ActivationProfile.Build(activations, text, settings, seed).Snippets
            .SelectMany(g => g.Snippets).Select(s => s.Activations[s.Focus]));
        Assert.Equal(Focuses(11), Focuses(11));
        Assert.NotEqual(Focuses(11), Focuses(12));
    }

    [Fact]
    public void Tied_activations_all_fall_in_a_bucket_whose_threshold_they_equal()
    {
        // A mostly-silent neuron: 90% zeros. The bottom 50% and top 50% both hold every zero.
        float[] activations = Enumerable.Range(0, 100).Select(i => i < 90 ? 0f : i).ToArray();
        var text = new ProfileText(new int[100], 100, ["x"]);
        NodeProfile profile = ActivationProfile.Build(activations, text, new SnippetSettings(1000, 0, 0), seed: 1);
        Assert.Equal(90, profile.Snippets.Single(g => !g.Top && g.Fraction == 0.5).Snippets.Count);
        Assert.Equal(100, profile.Snippets.Single(g => g.Top && g.Fraction == 0.5).Snippets.Count);
        Assert.Equal(0, profile.Snippets.Single(g => g.Top && g.Fraction == 0.5).Threshold);
    }
}

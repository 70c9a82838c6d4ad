using SparseCircuits.Core;

namespace SparseCircuits.Reports;

/// <summary>
/// The text a node was profiled on: token ids of consecutive context windows of
/// <see cref="WindowLength"/> tokens (position p lies in window p / WindowLength), and the display
/// text of every vocabulary id.
/// </summary>
public sealed record ProfileText(int[] Tokens, int WindowLength, IReadOnlyList<string> TokenTexts);

/// <summary>How many snippets per bucket and how much text around each focus token.</summary>
public sealed record SnippetSettings(int PerBucket, int Before, int After);

/// <summary>
/// One node's <see cref="NodeProfile"/> from its activation at every profiled position:
/// quantiles (linear interpolation between order statistics, as numpy's default), and per tail
/// bucket f in {0.1%, 1%, 10%, 50%} snippets whose focus activation is &gt;= the (1 - f) quantile
/// (top) or &lt;= the f quantile (bottom). Snippets are drawn in a seeded random order among the
/// bucket's positions, skipping any whose text span overlaps one already taken, and never cross
/// a context window (the text before a window start is not what the model saw).
/// </summary>
public static class ActivationProfile
{
    public static IReadOnlyList<double> QuantileLevels { get; } = [0, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1];
    public static IReadOnlyList<double> BucketFractions { get; } = [0.001, 0.01, 0.1, 0.5];

    public static NodeProfile Build(float[] activations, ProfileText text, SnippetSettings snippets, ulong seed)
    {
        if (activations.Length == 0) throw new ArgumentException("a profile needs at least one activation", nameof(activations));
        if (activations.Length > text.Tokens.Length) throw new ArgumentException("more activations than profiled tokens", nameof(activations));
        float[] sorted = (float[])activations.Clone();
        Array.Sort(sorted);
        double mean = activations.Sum(a => (double)a) / activations.Length;
        var quantiles = QuantileLevels.Select(q => new QuantileValue(q, ReportNumbers.Value(Quantile(sorted, q)))).ToList();
        var groups = new List<SnippetGroup>();
        int bucket = 0;
        foreach (bool top in new[] { true, false })
            foreach (double f in BucketFractions)
            {
                double threshold = Quantile(sorted, top ? 1 - f : f);
                var random = new SplitMix64(seed ^ (0x9E3779B97F4A7C15UL * (ulong)++bucket));
                IReadOnlyList<int> focus = Choose(activations, top, threshold, text.WindowLength, snippets, random);
                groups.Add(new SnippetGroup($"{(top ? "top" : "bottom")} {f * 100:0.###}%", top, f, ReportNumbers.Value(threshold),
                    focus.Select(p => Snippet(activations, text, snippets, p)).ToList()));
            }
        return new NodeProfile(activations.Length, ReportNumbers.Value(sorted[0]), ReportNumbers.Value(sorted[^1]), ReportNumbers.Value(mean),
            quantiles, groups);
    }

    /// <summary>The q-quantile of ascending <paramref name="sorted"/> values, interpolating linearly between neighbours.</summary>
    public static double Quantile(IReadOnlyList<float> sorted, double q)
    {
        double h = (sorted.Count - 1) * q;
        int lo = (int)Math.Floor(h);
        if (lo >= sorted.Count - 1) return sorted[^1];
        return sorted[lo] + (h - lo) * ((double)sorted[lo + 1] - sorted[lo]);
    }

    /// <summary>Focus positions of one bucket, in the order drawn.</summary>
    public static IReadOnlyList<int> Choose(float[] activations, bool top, double threshold, int windowLength, SnippetSettings snippets, SplitMix64 random)
    {
        var candidates = new List<int>();
        for (int p = 0; p < activations.Length; p++)
            if (top ? activations[p] >= threshold : activations[p] <= threshold) candidates.Add(p);
        var chosen = new List<int>();
        var spans = new List<(int Start, int End)>();
        // Partial Fisher-Yates: draw until enough non-overlapping snippets or no candidates left.
        for (int i = 0; i < candidates.Count && chosen.Count < snippets.PerBucket; i++)
        {
            int j = i + (int)random.NextBelow((ulong)(candidates.Count - i));
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
            var span = Span(candidates[i], windowLength, snippets);
            if (spans.Any(s => s.Start <= span.End && span.Start <= s.End)) continue;
            spans.Add(span);
            chosen.Add(candidates[i]);
        }
        return chosen;
    }

    /// <summary>First and last position of the snippet around <paramref name="focus"/>, inside its context window.</summary>
    public static (int Start, int End) Span(int focus, int windowLength, SnippetSettings snippets)
    {
        int windowStart = focus / windowLength * windowLength;
        return (Math.Max(windowStart, focus - snippets.Before), Math.Min(windowStart + windowLength - 1, focus + snippets.After));
    }

    static Snippet Snippet(float[] activations, ProfileText text, SnippetSettings snippets, int focus)
    {
        var (start, end) = Span(focus, text.WindowLength, snippets);
        end = Math.Min(end, activations.Length - 1);
        int count = end - start + 1;
        return new Snippet(text.Tokens.AsSpan(start, count).ToArray().Select(id => text.TokenTexts[id]).ToList(),
            ReportNumbers.Activations(activations.AsSpan(start, count)), focus - start);
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>
/// A built-in task: a generator of contrast pairs from a seed. Subclasses say what the task is
/// and draw one random pair at a time; <see cref="Stream"/> turns that into the deduplicated,
/// split-labelled sequence every consumer reads.
/// </summary>
public abstract class ContrastTask
{
    /// <summary>The name in docs/method.md's table (single_double_quote, ...).</summary>
    public abstract string Name { get; }

    /// <summary>One sentence: what the prompts look like.</summary>
    public abstract string Description { get; }

    /// <summary>What decides the answer.</summary>
    public abstract string Cue { get; }

    /// <summary>The answer after the positive prompt, as a reader would name it (<c>")</c>, <c>.add</c>).</summary>
    public abstract string TokLabel { get; }

    /// <summary>The answer after the negative prompt.</summary>
    public abstract string AltLabel { get; }

    /// <summary>Draws one pair with <paramref name="context"/> around the cue. Pairs may repeat; <see cref="Stream"/> removes repeats.</summary>
    public abstract ContrastPair Generate(SplitMix64 random, PromptContext context);

    /// <summary>
    /// The task's pairs for <paramref name="seed"/>, each with its split, in a fixed order. A pair
    /// is left out when either of its prompts appeared earlier in the stream (as either side), so
    /// no prompt occurs twice, in one split or across splits. The decision for a pair depends only
    /// on the pairs before it, so every consumer sees the same prefix whatever size it asks for.
    /// The stream ends after many draws in a row bring nothing new (a small template space).
    /// </summary>
    public IEnumerable<(ContrastPair Pair, TaskSplit Split)> Stream(ulong seed, PromptContext context = PromptContext.Short)
    {
        // The scaffold stream keeps the seeds it always had, so earlier scaffold results stay reproducible.
        var random = new SplitMix64(seed ^ NameSeed() ^ (context == PromptContext.Short ? 0x5EEDUL : 0UL));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int misses = 0;
        while (misses < MaxConsecutiveRepeats)
        {
            ContrastPair pair = Generate(random, context);
            if (pair.Positive == pair.Negative) throw new InvalidOperationException($"{Name} generated two identical prompts: {pair.Positive}");
            if (seen.Contains(pair.Positive) || seen.Contains(pair.Negative))
            {
                misses++;
                continue;
            }
            misses = 0;
            seen.Add(pair.Positive);
            seen.Add(pair.Negative);
            yield return (pair, TaskSplits.Of(pair));
        }
    }

    /// <summary>Consecutive repeated draws after which a template space counts as exhausted.</summary>
    public const int MaxConsecutiveRepeats = 2000;

    /// <summary>Pairs of one split (null: all splits), at most <paramref name="count"/>.</summary>
    public IEnumerable<ContrastPair> Pairs(TaskSplit? split, int count, ulong seed = 0, PromptContext context = PromptContext.Short) =>
        Stream(seed, context).Where(p => split is null || p.Split == split).Select(p => p.Pair).Take(count);

    /// <summary>Different tasks with the same seed draw different random sequences.</summary>
    ulong NameSeed()
    {
        ulong h = 1469598103934665603; // FNV-1a
        foreach (char c in Name) h = (h ^ c) * 1099511628211;
        return h;
    }

    public override string ToString() => Name;
}

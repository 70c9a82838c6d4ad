namespace SparseCircuits.Tasks;

/// <summary>
/// One datapoint of a task: two prompts that differ only in the cue. The correct next token after
/// <see cref="Positive"/> is the first token of <see cref="Tok"/>; after <see cref="Negative"/> it
/// is the first token of <see cref="Alt"/>. <see cref="Tok"/> and <see cref="Alt"/> are answer
/// texts (for example <c>"]]\n"</c> and <c>"]\n"</c>): the answer id is the first token the
/// tokenizer gives after the prompt for prompt + answer text, so a natural answer may be longer
/// than one token.
/// </summary>
public sealed record ContrastPair(string Positive, string Negative, string Tok, string Alt)
{
    /// <summary>
    /// Where the two prompts differ: the common prefix length and the lengths of the differing
    /// middles (everything after the middle is a common suffix). This is the cue region.
    /// </summary>
    public CueRegion Difference()
    {
        int prefix = 0, max = Math.Min(Positive.Length, Negative.Length);
        while (prefix < max && Positive[prefix] == Negative[prefix]) prefix++;
        int suffix = 0;
        while (suffix < max - prefix && Positive[^(suffix + 1)] == Negative[^(suffix + 1)]) suffix++;
        return new CueRegion(prefix, Positive.Length - prefix - suffix, Negative.Length - prefix - suffix);
    }
}

/// <summary>The region where a pair's prompts differ: from <see cref="Start"/>, this many characters of each prompt.</summary>
public readonly record struct CueRegion(int Start, int PositiveLength, int NegativeLength);

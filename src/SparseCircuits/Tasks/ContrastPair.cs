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
    /// middles (everything after the middle is a common suffix). This is the cue region. With
    /// <paramref name="wholeWords"/>, a region boundary that cuts through a name is moved out to
    /// the name's edge (<c>else</c>/<c>elif</c> differ in <c>else</c>/<c>elif</c>, not <c>se</c>/<c>if</c>).
    /// </summary>
    public CueRegion Difference(bool wholeWords = false)
    {
        int prefix = 0, max = Math.Min(Positive.Length, Negative.Length);
        while (prefix < max && Positive[prefix] == Negative[prefix]) prefix++;
        int suffix = 0;
        while (suffix < max - prefix && Positive[^(suffix + 1)] == Negative[^(suffix + 1)]) suffix++;
        if (wholeWords)
        {
            bool CutsStart() => prefix > 0 && IsWordChar(Positive[prefix - 1]) &&
                                (At(Positive, prefix) || At(Negative, prefix));
            while (CutsStart()) prefix--;
            bool CutsEnd() => suffix > 0 && IsWordChar(Positive[^suffix]) &&
                              (At(Positive, Positive.Length - suffix - 1, prefix) || At(Negative, Negative.Length - suffix - 1, prefix));
            while (CutsEnd()) suffix--;
        }
        return new CueRegion(prefix, Positive.Length - prefix - suffix, Negative.Length - prefix - suffix);
    }

    static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>Whether text[index] exists, lies at or after <paramref name="from"/>, and is a word character.</summary>
    static bool At(string text, int index, int from = 0) => index >= from && index < text.Length && IsWordChar(text[index]);
}

/// <summary>The region where a pair's prompts differ: from <see cref="Start"/>, this many characters of each prompt.</summary>
public readonly record struct CueRegion(int Start, int PositiveLength, int NegativeLength);

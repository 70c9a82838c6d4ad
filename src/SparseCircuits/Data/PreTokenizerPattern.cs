using System.Text.RegularExpressions;

namespace SparseCircuits.Data;

/// <summary>
/// The regex that splits text into pre-tokens before BPE, shared by training and encoding so the
/// two can never disagree. Merges never cross a pre-token boundary.
/// </summary>
public static class PreTokenizerPattern
{
    /// <summary>
    /// The paper's pattern (tinypython_2k). Every character falls in one of \p{L}, \p{N}, \s or
    /// "anything else", so the matches tile the whole text with no gaps: nothing is dropped, which
    /// is what makes encoding lossless. .NET matches UTF-16 code units, so a letter outside the BMP
    /// counts as "anything else" here (tiktoken would call it a letter); this only moves pre-token
    /// boundaries around such rare characters, and a surrogate pair is never split.
    /// </summary>
    public const string Paper = @"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static Regex CreateRegex(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new Core.SparseCircuitsException($"invalid pre-tokenizer pattern: {e.Message}");
        }
    }
}

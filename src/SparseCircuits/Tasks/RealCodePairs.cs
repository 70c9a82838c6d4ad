using System.Text.RegularExpressions;
using SparseCircuits.Core;
using SparseCircuits.Data;

namespace SparseCircuits.Tasks;

/// <summary>
/// The real-code variant of some tasks: contrast pairs cut from real files (a corpus's test split)
/// instead of generated, so a model trained partly on generated simple Python is also measured on
/// code nobody wrote for it (docs/tasks.md). Each pair keeps the real line and up to
/// <see cref="ContextLines"/> real lines before it; only the cue is edited (the quote type swapped,
/// a bracket added, <c>for</c> replaced by <c>while</c>), so the two prompts differ in the cue alone.
/// Pairs are written as a custom task file (<see cref="CustomTaskFile"/>), which every command reads.
/// </summary>
public static partial class RealCodePairs
{
    /// <summary>Real lines of context kept before the cue's line (the paper's snippets are a few lines).</summary>
    public const int ContextLines = 4;

    /// <summary>Tasks with a miner.</summary>
    public static IReadOnlyList<string> Tasks { get; } = ["single_double_quote", "bracket_counting", "for_while"];

    /// <summary>
    /// Up to <paramref name="max"/> distinct pairs of <paramref name="task"/> from the real
    /// documents (generated ones are skipped), in document order, each with its split.
    /// </summary>
    public static IReadOnlyList<(ContrastPair Pair, TaskSplit Split)> Mine(string task, IEnumerable<CorpusDocument> documents, int max,
        CancellationToken cancellation = default)
    {
        Func<string, string, ContrastPair?> miner = task switch
        {
            "single_double_quote" => QuotePair,
            "bracket_counting" => BracketPair,
            "for_while" => ForWhilePair,
            _ => throw new SparseCircuitsException($"no real-code variant for task '{task}'; tasks with one: {string.Join(", ", Tasks)}"),
        };
        if (max < 1) throw new SparseCircuitsException($"pair count must be >= 1 (got {max})");
        var pairs = new List<(ContrastPair, TaskSplit)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (CorpusDocument doc in documents)
        {
            cancellation.ThrowIfCancellationRequested();
            if (doc.Path.StartsWith(CorpusBuilder.SyntheticPathPrefix, StringComparison.Ordinal)) continue;
            string[] lines = doc.Text.Split('\n');
            for (int i = 0; i < lines.Length && pairs.Count < max; i++)
            {
                string context = string.Concat(lines[Math.Max(0, i - ContextLines)..i].Select(l => l + "\n"));
                // A context that opens a string or bracket it does not close would change what the cue line means.
                if (context.Contains("\"\"\"") || context.Contains("'''") || Unbalanced(context)) continue;
                ContrastPair? pair = miner(context, lines[i]);
                if (pair is null || !seen.Add(pair.Positive) || !seen.Add(pair.Negative)) continue;
                pairs.Add((pair, TaskSplits.Of(pair)));
            }
            if (pairs.Count >= max) break;
        }
        return pairs;
    }

    static bool Unbalanced(string text)
    {
        int depth = 0;
        foreach (char c in text)
        {
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
        }
        return depth != 0;
    }

    // A one-line call whose last argument is a plain string literal: `print("Done")`. The text ends
    // in a letter so the cut prompt tokenizes as the full line would up to that point; no quote
    // before the string, so swapping its quotes leaves a valid line.
    [GeneratedRegex("""^(?<lead>[^"'#]*\()(?<q>["'])(?<text>[A-Za-z][^"'\\{}]{0,40}[A-Za-z])\k<q>\)(?<rest>[^"'#]*)$""")]
    private static partial Regex CallString();

    static ContrastPair? QuotePair(string context, string line)
    {
        Match m = CallString().Match(line);
        if (!m.Success) return null;
        string lead = context + m.Groups["lead"].Value, text = m.Groups["text"].Value, rest = m.Groups["rest"].Value + "\n";
        return new ContrastPair($"{lead}\"{text}", $"{lead}'{text}", "\")" + rest, "')" + rest);
    }

    // A flat list literal assigned to a name: `names = [a, b, c]`, its last element ending in a
    // letter or digit (a closing quote or parenthesis would fuse with the bracket).
    [GeneratedRegex("""^(?<lead>\s*[A-Za-z_][\w.]* = )\[(?<body>[^\[\]()"'#{}]*[A-Za-z0-9_])\](?<rest>\s*)$""")]
    private static partial Regex FlatList();

    static ContrastPair? BracketPair(string context, string line)
    {
        Match m = FlatList().Match(line);
        if (!m.Success) return null;
        string lead = context + m.Groups["lead"].Value, body = m.Groups["body"].Value;
        return new ContrastPair($"{lead}[[{body}", $"{lead}[{body}", "]]\n", "]\n");
    }

    // A for header: `for key in sorted(table):`.
    [GeneratedRegex("""^(?<indent>\s*)for (?<name>[A-Za-z_]\w*) in (?<iter>[^#]+):\s*$""")]
    private static partial Regex ForHeader();

    static ContrastPair? ForWhilePair(string context, string line)
    {
        Match m = ForHeader().Match(line);
        if (!m.Success) return null;
        string lead = context + m.Groups["indent"].Value, name = m.Groups["name"].Value;
        return new ContrastPair($"{lead}for {name}", $"{lead}while {name}", $" in {m.Groups["iter"].Value}:\n", ":\n");
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

// Short-context tasks: one line of code, the cue a few tokens before the answer. They go beyond
// the paper's suite on purpose: models trained for minutes on a laptop reach none of the paper's
// tasks at a useful loss, but do learn to copy a quote or bracket type from a few tokens back, so
// these tasks give small models non-trivial circuits (the answer is not readable from the last
// token alone) and make a sparse-vs-dense comparison measurable at laptop scale.

/// <summary>quote_assign: close a string assigned to a name with the quote that opened it.</summary>
public sealed class QuoteAssign : ContrastTask
{
    public override string Name => "quote_assign";
    public override string Description => "One line `name = \"words` cut off before the closing quote (short context).";
    public override string Cue => "Which quote opened the string: \" (positive) or ' (negative).";
    public override string TokLabel => "\"";
    public override string AltLabel => "'";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        return ShortLine.Quoted($"{ShortLine.Indent(c)}{c.Pick(ShortLine.Names)} = ", ShortLine.Words(c), "\n");
    }
}

/// <summary>quote_call: close a string passed to a call with the quote that opened it.</summary>
public sealed class QuoteCall : ContrastTask
{
    public override string Name => "quote_call";
    public override string Description => "One line `print(\"words` (or a logging/raise/other call) cut off before the closing quote (short context).";
    public override string Cue => "Which quote opened the string: \" (positive) or ' (negative).";
    public override string TokLabel => "\")";
    public override string AltLabel => "')";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        return ShortLine.Quoted(ShortLine.Indent(c) + c.Pick(ShortLine.MessageCalls), ShortLine.Words(c), ")");
    }
}

/// <summary>bracket_paren: close a subscript with <c>]</c> and a call with <c>)</c>.</summary>
public sealed class BracketParen : ContrastTask
{
    public override string Name => "bracket_paren";
    public override string Description => "One line `out = table[key` or `out = table(key` cut off after the argument (short context).";
    public override string Cue => "Which bracket opened: [ (positive, a subscript) or ( (negative, a call).";
    public override string TokLabel => "]";
    public override string AltLabel => ")";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        string lead = $"{ShortLine.Indent(c)}{c.Pick(ShortLine.Names)} = {c.Pick(ShortLine.Holders)}";
        string argument = c.Pick(ShortLine.Arguments);
        return new ContrastPair($"{lead}[{argument}", $"{lead}({argument}", "]\n", ")\n");
    }
}

/// <summary>
/// What the short-context tasks share: a line at module, function or method depth, built from
/// names common in Python code (rare names would test the tokenizer, not the cue).
/// </summary>
internal static class ShortLine
{
    public static string Indent(PythonContext c) => c.Pick(Indents);

    /// <summary>One or two lower-case message words; the text ends in a letter, so the closing quote is its own pre-token.</summary>
    public static string Words(PythonContext c) => c.Chance(0.5) ? c.Pick(PythonPools.Words) : $"{c.Pick(PythonPools.Words)} {c.Pick(PythonPools.Words)}";

    /// <summary>The pair <c>lead"words</c> / <c>lead'words</c>, each closed by its own quote and then <paramref name="after"/>.</summary>
    public static ContrastPair Quoted(string lead, string words, string after) =>
        new($"{lead}\"{words}", $"{lead}'{words}", "\"" + after, "'" + after);

    static readonly string[] Indents = ["", "    ", "        "];

    public static readonly string[] Names =
    [
        "name", "value", "key", "result", "data", "path", "line", "text", "msg", "s", "x", "n", "item", "label", "prefix",
        "title", "mode", "status", "kind", "tag", "sep", "fmt", "url", "host", "user", "self.name", "self.value", "self.path",
    ];

    public static readonly string[] Holders =
    [
        "data", "items", "parts", "values", "args", "row", "line", "d", "cache", "result", "names", "keys", "lines", "words",
        "fields", "self.data", "self.items", "self.cache", "obj", "func", "table", "node", "stack", "config",
    ];

    public static readonly string[] Arguments = ["i", "j", "k", "n", "x", "key", "name", "idx", "index", "0", "1", "2", "-1", "item", "pos"];

    public static readonly string[] MessageCalls =
    [
        "print(", "print(", "log(", "write(", "warn(", "fail(", "error(", "self.write(", "sys.stdout.write(", "logger.info(",
        "logger.debug(", "logging.info(", "raise ValueError(", "raise TypeError(", "raise KeyError(", "self.fail(", "f.write(", "out.write(",
    ];
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>Calls that take a message string, as written before the string opens.</summary>
internal static class MessageCalls
{
    public static string Opener(PythonContext c) => c.Int(0, 9) switch
    {
        0 or 1 or 2 => "print(",
        3 => $"{c.Pick(["logger", "logging", "log", "self.logger"])}.{c.Pick(["info", "debug", "warning", "error"])}(",
        4 => $"raise {c.Pick(["ValueError", "RuntimeError", "TypeError", "KeyError", "Exception", "NotImplementedError"])}(",
        5 => "warnings.warn(",
        6 => "sys.stdout.write(",
        7 => $"self.{c.Pick(["log", "report", "show_message", "set_status", "write"])}(",
        8 => "click.echo(",
        _ => $"{c.Function()}(",
    };
}

/// <summary>single_double_quote: close a string with the quote that opened it.</summary>
public sealed class SingleDoubleQuote : ContrastTask
{
    public override string Name => "single_double_quote";
    public override string Description => "A string literal is cut off before its closing quote; the prompt ends inside the string.";
    public override string Cue => "Which quote character opened the string: \" (positive) or ' (negative).";
    public override string TokLabel => "\")";
    public override string AltLabel => "')";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string opener, close;
        // The paper's construction closes a string passed to a call (`")` vs `')`); the scaffold
        // variant also ends assignments, as it always did.
        switch (c.Int(c.IsShort ? 1 : 0, 4))
        {
            case 0:
                opener = $"{c.Variable()} = ";
                close = "\n";
                break;
            case 1:
                opener = $"{c.Collection().Many}.append(";
                close = ")\n";
                break;
            case 2:
                opener = $"{c.Variable()} = {c.Function()}({(c.Chance(0.5) ? c.Variable() + ", " : "")}";
                close = ")\n";
                break;
            default:
                opener = MessageCalls.Opener(c);
                close = ")\n";
                break;
        }
        string content = c.Message();
        return new ContrastPair(
            $"{before}{indent}{opener}\"{content}",
            $"{before}{indent}{opener}'{content}",
            "\"" + close,
            "'" + close);
    }
}

/// <summary>fstring_brace: in an f-string, a value is inserted with a brace; in a plain string it is passed after the string.</summary>
public sealed class FStringBrace : ContrastTask
{
    public override string Name => "fstring_brace";
    public override string Description => "A message string passed to print/logging/raise is cut off after a word; a value should follow.";
    public override string Cue => "Whether the string has the f prefix: f\"... (positive, insert {value}) or \"... (negative, close the string and pass the value).";
    public override string TokLabel => " {";
    public override string AltLabel => "\",";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string opener = MessageCalls.Opener(c);
        string q = c.Quote();
        // The string ends in a word: punctuation there would fuse with the closing quote into one pre-token.
        string words = c.Message();
        string value = c.Chance(0.7) ? c.Variable() : $"len({c.Collection().Many})";
        return new ContrastPair(
            $"{before}{indent}{opener}f{q}{words}",
            $"{before}{indent}{opener}{q}{words}",
            $" {{{value}}}{q})\n",
            $"{q}, {value})\n");
    }
}

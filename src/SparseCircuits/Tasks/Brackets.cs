using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>bracket_brace: after the first element, a dict continues with <c>:</c>, a list with <c>,</c>.</summary>
public sealed class BracketBrace : ContrastTask
{
    public override string Name => "bracket_brace";
    public override string Description => "A literal's first element is written; the prompt ends right after it (inside a string key, just before its closing quote).";
    public override string Cue => "Whether the literal opened with { (positive: a dict, `:` follows) or [ (negative: a list, `,` follows).";
    public override string TokLabel => ":";
    public override string AltLabel => ",";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string lead = c.Int(0, 6) switch
        {
            <= 3 => $"{c.Variable()} = ",
            4 => "return ",
            5 => $"{c.Variable()} = {c.Function()}(",
            _ => $"self.{c.Variable()} = ",
        };
        if (lead == "return " && indent.Length == 0) lead = $"{c.Variable()} = ";
        string closeCall = lead.EndsWith('(') ? ")" : "";
        string space = c.Chance(0.3) ? $"\n{indent}    " : "";
        string q = c.Quote();
        string value = c.Literal();
        // A key that ends in a letter or digit, or a string key cut off before its closing quote.
        string key, tok, alt;
        switch (c.Int(0, 4))
        {
            case 0 or 1:
                string word = c.Chance(0.5) ? c.Variable() : c.Pick(PythonPools.Words);
                key = q + word;
                tok = $"{q}: {value}}}{closeCall}\n";
                alt = $"{q}, {value}]{closeCall}\n";
                break;
            case 2:
                key = c.Variable();
                tok = $": {value}}}{closeCall}\n";
                alt = $", {value}]{closeCall}\n";
                break;
            case 3:
                key = c.Number().TrimStart('-');
                tok = $": {value}}}{closeCall}\n";
                alt = $", {value}]{closeCall}\n";
                break;
            default:
                key = $"{c.Pick(["self", "args", "config", "opts", "Color", "Mode", "settings"])}.{c.Variable()}";
                tok = $": {value}}}{closeCall}\n";
                alt = $", {value}]{closeCall}\n";
                break;
        }
        return new ContrastPair(
            $"{before}{indent}{lead}{{{space}{key}",
            $"{before}{indent}{lead}[{space}{key}",
            tok,
            alt);
    }
}

/// <summary>bracket_counting: a list nested two deep closes with <c>]]</c>, one level deep with <c>]</c>.</summary>
public sealed class BracketCounting : ContrastTask
{
    public override string Name => "bracket_counting";
    public override string Description => "A list literal's elements are written; the prompt ends after the last element, before the closing bracket(s).";
    public override string Cue => "Nesting depth: the literal opened with [[ (positive, close with ]]) or [ (negative, close with ]). Answers are the first tokens of \"]]\\n\" and \"]\\n\", as in the paper.";
    public override string TokLabel => "]]";
    public override string AltLabel => "]";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        // Short prompts get no filler: any list literal before the cue would be a distractor.
        var (before, indent) = c.Scaffold(maxFillerChars: c.IsShort ? 0 : 160);
        // With the scaffold, sometimes an earlier, balanced nested list as a distractor (the paper's attack).
        if (!c.IsShort && c.Chance(0.3))
            before += $"{indent}{c.Variable()} = [[{c.Number()}, {c.Number()}], [{c.Number()}, {c.Number()}]]\n";
        else if (!c.IsShort && c.Chance(0.3))
            before += $"{indent}{c.Variable()} = [{c.Number()}, {c.Number()}, {c.Number()}]\n";
        string lead = c.Int(0, 5) switch
        {
            <= 2 => $"{c.Variable()} = ",
            3 => $"{c.Variable()} = np.array(",
            4 => $"{c.Variable()} = torch.tensor(",
            _ => $"self.{c.Variable()} = ",
        };
        string closeCall = lead.EndsWith('(') ? ")" : "";
        int n = c.Int(1, 6);
        int kind = c.Int(0, 3);
        var elements = new List<string>();
        for (int i = 0; i < n; i++)
        {
            elements.Add(kind switch
            {
                0 or 1 => c.Number(),
                2 => c.Variable(),
                _ => i == n - 1 ? c.Variable() : c.StringLiteral(), // a string is never last: its quote would fuse with ]
            });
        }
        string body = string.Join(", ", elements);
        return new ContrastPair(
            $"{before}{indent}{lead}[[{body}",
            $"{before}{indent}{lead}[{body}",
            $"]]{closeCall}\n",
            $"]{closeCall}\n");
    }
}

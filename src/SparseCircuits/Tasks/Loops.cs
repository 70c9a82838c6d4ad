using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>for_while: <c>for x</c> continues with <c>in</c>, <c>while x</c> with <c>:</c>.</summary>
public sealed class ForWhile : ContrastTask
{
    public override string Name => "for_while";
    public override string Description => "A loop header is cut off after the first name.";
    public override string Cue => "The loop keyword: for (positive, ` in` follows) or while (negative, `:` follows).";
    public override string TokLabel => " in";
    public override string AltLabel => ":";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (one, many) = c.Collection();
        string name = c.Int(0, 9) switch
        {
            <= 5 => one,
            6 or 7 => c.Pick(PythonPools.Flags),
            _ => c.Pick(["queue", "stack", "pending", "todo", "node", "current", "line", "chunk", "retries", "remaining", "frontier", "buf"]),
        };
        var (before, indent) = c.Scaffold(avoid: [name]);
        return new ContrastPair(
            $"{before}{indent}for {name}",
            $"{before}{indent}while {name}",
            $" in {many}:\n",
            ":\n");
    }
}

/// <summary>indent_for: the line after a <c>for</c> header is indented one level deeper.</summary>
public sealed class IndentFor : ContrastTask
{
    public override string Name => "indent_for";
    public override string Description => "The prompt ends at the newline after a line; the next line's indentation is the answer.";
    public override string Cue => "Whether that line is a for header (positive: indent one level deeper) or a plain statement using the same names (negative: same indent).";
    public override string TokLabel => "deeper indent";
    public override string AltLabel => "same indent";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (one, many) = c.Collection();
        string index = c.Pick(["i", "j", "k", "idx", "n", "pos", "step", "epoch", "attempt"]);
        string key = c.Pick(["key", "k", "name", "field", "col"]);
        var (before, indent) = c.Scaffold(avoid: [one, many]);
        string header, statement;
        switch (c.Int(0, 5))
        {
            case 0 or 1:
                header = $"for {one} in {many}:";
                statement = c.Pick([$"{one} = {many}[0]", $"{one} = next(iter({many}))", $"{one} = {many}.pop()", $"{many}.append({one})", $"{one} = max({many})"]);
                break;
            case 2:
                header = $"for {index} in range(len({many})):";
                statement = c.Pick([$"{index} = len({many}) - 1", $"{index} = {many}.index({one})", $"{index} = min(len({many}), {c.Int(2, 99)})"]);
                break;
            case 3:
                header = $"for {key}, {one} in {many}.items():";
                statement = c.Pick([$"{one} = {many}.get({key})", $"{one} = {many}[{key}]", $"{key}, {one} = next(iter({many}.items()))"]);
                break;
            case 4:
                header = $"for {one} in sorted({many}):";
                statement = c.Pick([$"{one} = sorted({many})[0]", $"{many} = sorted({many})", $"{one} = min({many})"]);
                break;
            default:
                header = $"for {index}, {one} in enumerate({many}):";
                statement = c.Pick([$"{index}, {one} = 0, {many}[0]", $"{index} = len({many})", $"{one} = {many}[{index}]"]);
                break;
        }
        string body = c.Int(0, 4) switch
        {
            0 => $"{c.Function()}({one})",
            1 => $"print({one})",
            2 => $"{c.Variable()} += {c.Number()}",
            3 => $"if {one} is None:",
            _ => $"{c.Variable()} = {c.Function()}({one})",
        };
        return new ContrastPair(
            $"{before}{indent}{header}\n",
            $"{before}{indent}{statement}\n",
            $"{indent}    {body}\n",
            $"{indent}{body}\n");
    }
}

/// <summary>enumerate_range: two loop variables call for <c>enumerate</c>, one index for <c>range</c>.</summary>
public sealed class EnumerateRange : ContrastTask
{
    public override string Name => "enumerate_range";
    public override string Description => "A for header is cut off after `in`.";
    public override string Cue => "The number of loop variables: `for i, x in` (positive: enumerate) or `for i in` (negative: range).";
    public override string TokLabel => " enumerate";
    public override string AltLabel => " range";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (one, many) = c.Collection();
        string index = c.Pick(["i", "j", "k", "idx", "index", "n", "pos", "line_no", "row_idx", "step", "count", "num", "ix", "t"]);
        var (before, indent) = c.Scaffold(avoid: [one, many, index]);
        return new ContrastPair(
            $"{before}{indent}for {index}, {one} in",
            $"{before}{indent}for {index} in",
            $" enumerate({many}):\n",
            c.Chance(0.7) ? $" range(len({many})):\n" : $" range({c.Int(1, 100)}):\n");
    }
}

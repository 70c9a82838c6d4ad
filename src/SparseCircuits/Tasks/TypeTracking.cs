using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>
/// set_or_string and its fixed-name variant: a variable initialised as <c>set()</c> grows with
/// <c>.add</c>, one initialised as a string grows with <c>+=</c>; the use is several lines below.
/// </summary>
public abstract class SetOrStringBase(string? fixedName) : ContrastTask
{
    public override string Cue => "How the variable was initialised some lines earlier: set() (positive) or a string (negative).";
    public override string TokLabel => ".add";
    public override string AltLabel => " +=";

    static readonly string[] Names =
    [
        "result", "output", "acc", "collected", "buf", "res", "data", "out", "parts", "items", "values", "total",
        "combined", "merged", "found", "seen", "keys", "names", "tags", "words", "chars", "letters", "codes", "labels",
        "summary", "report", "current", "pending", "selected", "unique", "extra", "visited", "body", "message",
    ];

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        string name = fixedName ?? c.Pick(Names);
        var (one, many) = c.Collection();
        while (one == name || many == name) (one, many) = c.Collection();
        var (before, indent) = c.Scaffold(maxDepth: 2, maxFillerChars: 80, avoid: [name, one, many]);
        string q = c.Quote();
        string initialString = c.Int(0, 4) switch
        {
            0 or 1 => "\"\"",
            2 or 3 => "''",
            _ => $"{q}{c.Words(1, 2)}{(c.Chance(0.5) ? ": " : " ")}{q}",
        };
        string between = c.Statements(indent, c.Int(0, 150), name, one, many);
        string inner = indent + "    ";
        string loop = c.Int(0, 5) switch
        {
            0 => $"{indent}for {one} in {many}:\n",
            1 => $"{indent}for {one} in sorted({many}):\n",
            2 => $"{indent}for {one} in {c.Function()}({c.Variable()}):\n",
            3 => $"{indent}while {many}:\n{inner}{one} = {many}.pop()\n",
            4 => $"{indent}for {one} in {many}:\n{inner}if not {one}:\n{inner}    continue\n",
            _ => $"{indent}for {one} in {many}:\n{inner}{one} = {one}.strip()\n",
        };
        string use = c.Chance(0.3) ? $"{inner}if {one}:\n{inner}    {name}" : $"{inner}{name}";
        string tail = between + loop + use;
        return new ContrastPair(
            $"{before}{indent}{name} = set()\n{tail}",
            $"{before}{indent}{name} = {initialString}\n{tail}",
            $".add({one})\n",
            $" += {one}\n");
    }
}

public sealed class SetOrString() : SetOrStringBase(null)
{
    public override string Name => "set_or_string";
    public override string Description => "A variable is initialised, other code runs, then a loop extends it; the prompt ends at the variable's name in the loop.";
}

public sealed class SetOrStringFixedVarName() : SetOrStringBase("current")
{
    public override string Name => "set_or_string_fixedvarname";
    public override string Description => "As set_or_string, but the variable is always named `current`, so its name carries no hint.";
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>Conditions that end in a letter or digit, so the next token starts a new pre-token.</summary>
internal static class Conditions
{
    public static string Random(PythonContext c)
    {
        var (one, many) = c.Collection();
        return c.Int(0, 11) switch
        {
            0 => $"{c.Variable()} > {c.Int(0, 100)}",
            1 => $"{c.Variable()} is None",
            2 => $"not {c.Pick(PythonPools.Flags)}",
            3 => c.Pick(PythonPools.Flags),
            4 => $"len({many}) > {c.Int(0, 10)}",
            5 => $"{one} in {many}",
            6 => $"{c.Variable()} is not None",
            7 => $"{c.Variable()} == {c.Int(0, 10)}",
            8 => $"{c.Variable()} < {c.Variable()}",
            9 => $"{one} not in {many}",
            10 => $"{c.Pick(PythonPools.Flags)} and {c.Variable()} >= {c.Int(1, 50)}",
            _ => $"{c.Variable()} != {c.Variable()}",
        };
    }
}

/// <summary>else_elif: <c>else</c> is followed by <c>:</c>, <c>elif</c> by a condition.</summary>
public sealed class ElseElif : ContrastTask
{
    public override string Name => "else_elif";
    public override string Description => "After an if block (maybe with elif branches), the next branch keyword is written; the prompt ends after it.";
    public override string Cue => "The keyword: else (positive, `:` follows) or elif (negative, a condition follows).";
    public override string TokLabel => ":";
    public override string AltLabel => "<condition>";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string inner = indent + "    ";
        var text = new System.Text.StringBuilder(before);
        text.Append($"{indent}if {Conditions.Random(c)}:\n");
        text.Append(c.Statements(inner, c.Int(1, 90)) is { Length: > 0 } s ? s : $"{inner}pass\n");
        int elifs = c.Int(0, 2);
        for (int i = 0; i < elifs; i++)
        {
            text.Append($"{indent}elif {Conditions.Random(c)}:\n");
            text.Append(c.Statements(inner, c.Int(1, 60)) is { Length: > 0 } e ? e : $"{inner}pass\n");
        }
        string prefix = text.ToString();
        return new ContrastPair(
            $"{prefix}{indent}else",
            $"{prefix}{indent}elif",
            $":\n{inner}{c.Variable()} = {c.Literal()}\n",
            $" {Conditions.Random(c)}:\n");
    }
}

/// <summary>if_ternary: an if statement's condition ends with <c>:</c>, a conditional expression's with <c>else</c>.</summary>
public sealed class IfTernary : ContrastTask
{
    public override string Name => "if_ternary";
    public override string Description => "A condition after `if` is complete; the prompt ends after it.";
    public override string Cue => "Whether the if starts a statement (positive: `:` follows) or sits inside an expression `x = a if cond` (negative: ` else` follows).";
    public override string TokLabel => ":";
    public override string AltLabel => " else";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string condition = Conditions.Random(c);
        string value = c.Chance(0.5) ? c.Literal() : c.Chance(0.5) ? c.Variable() : c.CallExpression();
        string expression, close = "";
        switch (c.Int(0, 5))
        {
            case 0 when indent.Length > 0:
                expression = $"return {value} if ";
                break;
            case 1:
                expression = $"print({value} if ";
                close = ")";
                break;
            default:
                expression = $"{c.Variable()} = {value} if ";
                break;
        }
        string other = c.Literal();
        return new ContrastPair(
            $"{before}{indent}if {condition}",
            $"{before}{indent}{expression}{condition}",
            $":\n{indent}    {c.SimpleStatement()}\n",
            $" else {other}{close}\n");
    }
}

/// <summary>if_equals: after <c>if name</c> comes a comparison <c>==</c>; a statement starting with the name assigns with <c>=</c>.</summary>
public sealed class IfEquals : ContrastTask
{
    public override string Name => "if_equals";
    public override string Description => "A line starts with a name (maybe dotted); the prompt ends after it.";
    public override string Cue => "Whether the line starts with `if` (positive: ` ==` follows) or is a statement (negative: ` =` follows).";
    public override string TokLabel => " ==";
    public override string AltLabel => " =";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string name = c.Int(0, 5) switch
        {
            <= 2 => c.Variable(),
            3 => $"self.{c.Variable()}",
            4 => $"{c.Pick(["args", "config", "opts", "settings", "request", "options"])}.{c.Variable()}",
            _ => c.Pick(PythonPools.Flags),
        };
        string value = c.Literal();
        return new ContrastPair(
            $"{before}{indent}if {name}",
            $"{before}{indent}{name}",
            $" == {value}:\n",
            $" = {value}\n");
    }
}

/// <summary>var_if: <c>x = True</c> ends the line; <c>if x == True</c> continues with <c>:</c>.</summary>
public sealed class VarIf : ContrastTask
{
    public override string Name => "var_if";
    public override string Description => "A line compares or assigns a name and a value; the prompt ends after the value.";
    public override string Cue => "Whether the line is an assignment `x = True` (positive: newline follows) or a test `if x == True` (negative: `:` follows).";
    public override string TokLabel => "\\n";
    public override string AltLabel => ":";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        string name = c.Chance(0.5) ? c.Pick(PythonPools.Flags) : c.Variable();
        string value = c.Int(0, 5) switch
        {
            <= 1 => c.Pick(["True", "False"]),
            2 => "None",
            3 => c.Int(0, 100).ToString(),
            4 => c.Variable(),
            _ => $"{c.Pick(["Mode", "Status", "State", "Color", "Level"])}.{c.Pick(["ON", "OFF", "READY", "DONE", "RED", "DEBUG", "IDLE"])}",
        };
        string next = indent + c.SimpleStatement();
        return new ContrastPair(
            $"{before}{indent}{name} = {value}",
            $"{before}{indent}if {name} == {value}",
            $"\n{next}\n",
            $":\n{indent}    {c.SimpleStatement()}\n");
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>var_swap: <c>a, b = b,</c> is completed with <c>a</c>.</summary>
public sealed class VarSwap : ContrastTask
{
    public override string Name => "var_swap";
    public override string Description => "A tuple assignment swaps two names; the prompt ends after the comma on the right-hand side.";
    public override string Cue => "The order of the targets: `a, b = b,` (positive: ` a` follows) or `b, a = a,` (negative: ` b` follows).";
    public override string TokLabel => " <first name>";
    public override string AltLabel => " <second name>";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (a, b) = c.PickTwoDistinctStart(PythonPools.Variables);
        var (before, indent) = c.Scaffold(avoid: [a, b]);
        // Usually the names are set or compared just before the swap.
        int lead = c.Int(0, 3);
        before += lead switch
        {
            0 => $"{indent}{a} = {c.Literal()}\n{indent}{b} = {c.Literal()}\n",
            1 => $"{indent}if {a} > {b}:\n",
            2 => $"{indent}{a}, {b} = {c.Number()}, {c.Number()}\n",
            _ => "",
        };
        if (lead == 1) indent += "    ";
        return new ContrastPair(
            $"{before}{indent}{a}, {b} = {b},",
            $"{before}{indent}{b}, {a} = {a},",
            $" {a}\n",
            $" {b}\n");
    }
}

/// <summary>lambda_func: a lambda's parameters end with <c>:</c>, a def's name is followed by <c>(</c>.</summary>
public sealed class LambdaFunc : ContrastTask
{
    public override string Name => "lambda_func";
    public override string Description => "A function is being defined; the prompt ends after a name.";
    public override string Cue => "The keyword: `f = lambda x` (positive: `:` follows) or `def f` (negative: `(` follows).";
    public override string TokLabel => ":";
    public override string AltLabel => "(";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        string function = c.Function();
        var (one, _) = c.Collection();
        string parameter = c.Int(0, 3) switch
        {
            0 => c.Pick(["x", "s", "n", "k", "v", "p", "t", "a"]),
            1 => one,
            2 => $"{c.Pick(["x", "a", "k", "i"])}, {c.Pick(["y", "b", "v", "j"])}",
            _ => c.Variable(),
        };
        var (before, indent) = c.Scaffold();
        string lead = c.Chance(0.2) && indent.Length > 0 ? "self." : "";
        return new ContrastPair(
            $"{before}{indent}{lead}{function} = lambda {parameter}",
            $"{before}{indent}def {function}",
            $": {c.CallExpression()}\n",
            $"({parameter}):\n");
    }
}

/// <summary>while_return_true: <c>while True</c> opens a block with <c>:</c>; <c>return True</c> ends the line.</summary>
public sealed class WhileReturnTrue : ContrastTask
{
    public override string Name => "while_return_true";
    public override string Description => "Inside a function, a line ends with `True`; the prompt ends there.";
    public override string Cue => "The keyword before True: while (positive: `:` follows) or return (negative: newline follows).";
    public override string TokLabel => ":";
    public override string AltLabel => "\\n";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (before, indent) = c.Scaffold();
        if (indent.Length == 0)
        {
            // return needs a function: open one.
            before += $"def {c.Function()}({c.Parameters()}):\n" + c.Statements("    ", c.Int(0, 100));
            indent = "    ";
        }
        if (c.Chance(0.4))
        {
            before += $"{indent}if {Conditions.Random(c)}:\n";
            indent += "    ";
        }
        return new ContrastPair(
            $"{before}{indent}while True",
            $"{before}{indent}return True",
            $":\n{indent}    {c.SimpleStatement()}\n",
            $"\n");
    }
}

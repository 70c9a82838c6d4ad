using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>final_kwarg: after a parameter with a default, every later parameter needs one too.</summary>
public sealed class FinalKwarg : ContrastTask
{
    public override string Name => "final_kwarg";
    public override string Description => "A def signature is cut off after its last parameter name.";
    public override string Cue => "Whether earlier parameters have default values (positive: a=None, ...) or not (negative): a parameter after a default needs a default.";
    public override string TokLabel => "=None";
    public override string AltLabel => "):";

    static readonly string[] Defaults = ["None", "None", "None", "0", "1", "True", "False", "\"\"", "[]", "{}", "0.5", "\"utf-8\"", "10", "-1", "()"];

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        int count = c.Int(2, 5);
        var names = new List<string>();
        while (names.Count < count)
        {
            string n = c.Chance(0.6) ? c.Variable() : c.Chance(0.5) ? c.Collection().Many : c.Pick(PythonPools.Flags);
            if (!names.Contains(n)) names.Add(n);
        }
        string last = names[^1];
        int withDefault = c.Int(1, Math.Min(2, count - 1)); // the parameters just before the last one
        int firstDefault = count - 1 - withDefault;

        var (before, indent) = c.Scaffold(maxDepth: 1, avoid: [.. names]);
        bool method = c.Chance(0.35);
        string head = method ? "self, " : "";
        if (method)
        {
            // A method: wrap in a class at the current indentation.
            before += $"{indent}class {c.Class()}:\n";
            indent += "    ";
            if (c.Chance(0.4)) before += $"{indent}{c.Variable()} = {c.Literal()}\n\n";
        }
        string positive = string.Join(", ", names.Take(count - 1).Select((n, i) => i >= firstDefault ? $"{n}={c.Pick(Defaults)}" : n));
        string negative = string.Join(", ", names.Take(count - 1));
        string def = $"{indent}def {c.Function()}({head}";
        return new ContrastPair(
            $"{before}{def}{positive}, {last}",
            $"{before}{def}{negative}, {last}",
            "=None):\n",
            "):\n");
    }
}

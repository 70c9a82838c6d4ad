using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>class_init: <c>self.x = x</c> copies the attribute's name.</summary>
public sealed class ClassInit : ContrastTask
{
    public override string Name => "class_init";
    public override string Description => "An __init__ stores its parameters as attributes; the prompt ends at `self.NAME =` on the next line.";
    public override string Cue => "Which attribute the last line assigns (positive: one parameter, negative: another); the value is the parameter of the same name.";
    public override string TokLabel => " <name>";
    public override string AltLabel => " <other name>";

    static readonly string[] Annotations = ["str", "int", "float", "bool", "list", "dict", "Optional[str]", "List[int]"];

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        // A short prompt is a small class: three or four parameters.
        int count = c.IsShort ? c.Int(3, 4) : c.Int(3, 6);
        List<string> names, rest;
        int assigned;
        do
        {
            names = [];
            while (names.Count < count)
            {
                string n = c.Chance(0.7) ? c.Variable() : c.Collection().Many;
                if (!names.Contains(n) && n.Length > 1) names.Add(n);
            }
            // Some parameters are assigned in order; the cue line picks one of the rest.
            assigned = c.Int(1, count - 2);
            rest = names.Skip(assigned).ToList();
        } while (rest.Select(n => n[0]).Distinct().Count() < 2);
        var (tok, alt) = c.PickTwoDistinctStart(rest);

        string header = c.Header(220, [.. names]);
        string indent = c.Chance(0.85) ? "" : "    ";
        var text = new System.Text.StringBuilder(header);
        if (indent.Length > 0) text.Append($"def {c.Function()}():\n");
        text.Append($"{indent}class {c.Class()}{(c.Chance(0.3) ? "(" + c.Class() + ")" : "")}:\n");
        if (c.Chance(0.2)) text.Append($"{indent}    \"\"\"{c.Words(2, 5)}.\"\"\"\n\n");
        bool annotate = c.Chance(0.25);
        bool lastDefault = c.Chance(0.3);
        var parameters = names.Select((n, i) =>
            (annotate ? $"{n}: {c.Pick(Annotations)}" : n) + (lastDefault && i == count - 1 ? (annotate ? " = None" : "=None") : ""));
        string body = indent + "        ";
        text.Append($"{indent}    def __init__(self, {string.Join(", ", parameters)}):\n");
        if (c.Chance(0.25)) text.Append($"{body}super().__init__()\n");
        foreach (string n in names.Take(assigned))
        {
            text.Append($"{body}self.{n} = {n}\n");
            if (c.Chance(0.15)) text.Append($"{body}self.{c.Pick(["_cache", "_count", "history", "children", "_lock", "_items"])} = {c.Pick(["{}", "[]", "0", "None", "set()"])}\n");
        }
        string before = text.ToString();
        return new ContrastPair($"{before}{body}self.{tok} =", $"{before}{body}self.{alt} =", $" {tok}\n", $" {alt}\n");
    }
}

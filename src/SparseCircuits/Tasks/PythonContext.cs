using System.Text;
using SparseCircuits.Core;
using static SparseCircuits.Tasks.PythonPools;

namespace SparseCircuits.Tasks;

/// <summary>
/// Random, plausible Python for around a cue: a file header (docstring, imports, constants,
/// helper functions), a frame that puts the cue at module level, in a function, in a method or
/// in a nested block, and filler statements. Everything is drawn from one <see cref="SplitMix64"/>,
/// so a seed fixes the text. Generated code is syntactically valid Python up to the cue.
/// With <see cref="PromptContext.Short"/> (the default) the same calls give the paper's short
/// snippets: no file header, a plain frame and at most a line or two of filler.
/// </summary>
internal sealed class PythonContext(SplitMix64 random, PromptContext context)
{
    /// <summary>Filler characters a short prompt allows in one place (about one statement).</summary>
    const int ShortFillerChars = 50;

    public PromptContext Context { get; } = context;

    public bool IsShort => Context == PromptContext.Short;

    /// <summary>Upper bound on the characters of context put before a cue (prompts stay well under 256 tokens).</summary>
    public const int MaxContextChars = 420;

    public SplitMix64 Random { get; } = random;

    // ---- choices ----

    public int Int(int minInclusive, int maxInclusive) => minInclusive + (int)Random.NextBelow((ulong)(maxInclusive - minInclusive + 1));

    public bool Chance(double p) => Random.NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> options) => options[(int)Random.NextBelow((ulong)options.Count)];

    /// <summary>Two different entries.</summary>
    public (T, T) PickTwo<T>(IReadOnlyList<T> options)
    {
        int i = (int)Random.NextBelow((ulong)options.Count);
        int j = (int)Random.NextBelow((ulong)(options.Count - 1));
        if (j >= i) j++;
        return (options[i], options[j]);
    }

    /// <summary>Two different entries whose first characters differ too (so their first tokens differ).</summary>
    public (string, string) PickTwoDistinctStart(IReadOnlyList<string> options)
    {
        while (true)
        {
            var (a, b) = PickTwo(options);
            if (a[0] != b[0]) return (a, b);
        }
    }

    // ---- names and values ----

    public string Variable() => Pick(Variables);

    public (string One, string Many) Collection() => Pick(Collections);

    public string Function() => Chance(0.85) ? $"{Pick(Verbs)}_{Pick(Nouns)}" : Pick(Verbs);

    public string Class() => Pick(ClassPrefixes) + Pick(ClassStems);

    public string Quote() => Chance(0.5) ? "\"" : "'";

    /// <summary>1..<paramref name="max"/> message words; the text ends in a letter.</summary>
    public string Words(int min = 1, int max = 4)
    {
        int n = Int(min, max);
        var words = new string[n];
        for (int i = 0; i < n; i++) words[i] = Pick(PythonPools.Words);
        if (Chance(0.3)) words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
        return string.Join(' ', words);
    }

    /// <summary>The start of a log or error message, ending in a letter.</summary>
    public string Message()
    {
        if (Chance(0.25)) return Words(1, 4);
        string start = Pick(MessageTemplates).Replace("{0}", Pick(Nouns).Replace('_', ' '));
        return Chance(0.3) ? $"{start} {Pick(PythonPools.Words)}" : start;
    }

    public string StringLiteral()
    {
        string q = Quote();
        return q + Words(1, 3) + q;
    }

    public string Number() => Int(0, 9) switch
    {
        0 => "0",
        1 => "1",
        2 => Int(2, 10).ToString(),
        3 => Int(10, 100).ToString(),
        4 => (Int(1, 20) * 50).ToString(),
        5 => $"{Int(0, 9)}.{Int(1, 99)}",
        6 => $"1e-{Int(2, 6)}",
        7 => "-1",
        _ => Int(0, 1000).ToString(),
    };

    public string Literal() => Int(0, 9) switch
    {
        <= 2 => Number(),
        3 or 4 => StringLiteral(),
        5 => Pick(["True", "False", "None"]),
        6 => Pick(["[]", "{}", "()", "set()", "\"\""]),
        7 => $"[{Number()}, {Number()}, {Number()}]",
        8 => $"{{{StringLiteral()}: {Number()}}}",
        _ => $"({Number()}, {Number()})",
    };

    public string FileName() => $"{Pick(FileStems)}.{Pick(Extensions)}";

    public string Comment() => Chance(0.6) ? Pick(Comments) : $"{Pick(Verbs)} the {Pick(Nouns)}";

    /// <summary>A short argument list for a def: 0..3 names.</summary>
    public string Parameters(int max = 3)
    {
        int n = Int(0, max);
        var names = new List<string>();
        while (names.Count < n)
        {
            string v = Chance(0.5) ? Variable() : Collection().Many;
            if (!names.Contains(v) && v is not ("self" or "cls")) names.Add(v);
        }
        return string.Join(", ", names);
    }

    /// <summary>An expression that calls something: <c>load_config(path)</c>, <c>len(items)</c>, <c>os.path.join(a, b)</c>.</summary>
    public string CallExpression() => Int(0, 6) switch
    {
        0 => $"{Function()}({Variable()})",
        1 => $"len({Collection().Many})",
        2 => $"{Function()}()",
        3 => $"{Variable()}.{Pick(Methods)}()",
        4 => $"os.path.join({Variable()}, {StringLiteral()})",
        5 => $"{Function()}({Variable()}, {Number()})",
        _ => $"sum({Collection().Many})",
    };

    // ---- statements ----

    /// <summary>One filler statement (possibly a two-line block) at <paramref name="indent"/>, ending with a newline.</summary>
    public string Statement(string indent)
    {
        string inner = indent + "    ";
        var (one, many) = Collection();
        return Int(0, 15) switch
        {
            0 or 1 => $"{indent}{Variable()} = {Literal()}\n",
            2 => $"{indent}{Variable()} = {CallExpression()}\n",
            3 => $"{indent}{Variable()} += {Number()}\n",
            4 => $"{indent}print({(Chance(0.5) ? StringLiteral() : Variable())})\n",
            5 => $"{indent}{Pick(["logger", "logging", "log"])}.{Pick(["info", "debug", "warning"])}({StringLiteral()})\n",
            6 => $"{indent}if {Variable()} is None:\n{inner}{Variable()} = {Literal()}\n",
            7 => $"{indent}for {one} in {many}:\n{inner}{Function()}({one})\n",
            8 => $"{indent}{many}.append({Variable()})\n",
            9 => $"{indent}# {Comment()}\n",
            10 => $"{indent}assert {Variable()} is not None\n",
            11 => $"{indent}{Variable()} = {many}[{Int(-1, 3)}]\n",
            12 => $"{indent}{Variable()} = {Variable()}.get({StringLiteral()}, {Literal()})\n",
            13 => $"{indent}{Variable()} = [{one} for {one} in {many} if {one}]\n",
            14 => $"{indent}if not {many}:\n{inner}{(Chance(0.5) ? $"{many} = []" : $"raise ValueError({StringLiteral()})")}\n",
            _ => $"{indent}{Function()}({Variable()}, {Literal()})\n",
        };
    }

    /// <summary>A one-line statement without indentation or newline, for answer continuations.</summary>
    public string SimpleStatement() => Int(0, 3) switch
    {
        0 => $"{Variable()} = {Literal()}",
        1 => $"{Function()}({Variable()})",
        2 => $"print({Variable()})",
        _ => $"{Variable()} += {Number()}",
    };

    /// <summary>
    /// Filler statements at <paramref name="indent"/> up to about <paramref name="maxChars"/>
    /// characters. Statements mentioning any name in <paramref name="avoid"/> are redrawn, so
    /// filler never touches the cue's own variables.
    /// </summary>
    public string Statements(string indent, int maxChars, params string[] avoid)
    {
        if (IsShort) maxChars = Math.Min(maxChars, ShortFillerChars);
        var text = new StringBuilder();
        int guard = 0;
        while (guard++ < 50)
        {
            string s = Statement(indent);
            if (Mentions(s, avoid)) continue;
            if (text.Length + s.Length > maxChars) break;
            text.Append(s);
        }
        return text.ToString();
    }

    static bool Mentions(string code, string[] names)
    {
        foreach (string name in names)
        {
            int at = 0;
            while ((at = code.IndexOf(name, at, StringComparison.Ordinal)) >= 0)
            {
                bool startOk = at == 0 || !IsIdentifierChar(code[at - 1]);
                bool endOk = at + name.Length == code.Length || !IsIdentifierChar(code[at + name.Length]);
                if (startOk && endOk) return true;
                at += name.Length;
            }
        }
        return false;
    }

    static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    // ---- file header and frames ----

    /// <summary>
    /// The top of a file: maybe a docstring or comment, imports, constants and small helper
    /// functions, about <paramref name="maxChars"/> characters at most (often much less).
    /// </summary>
    public string Header(int maxChars, params string[] avoid)
    {
        if (IsShort) return "";
        int budget = Int(0, Math.Max(0, maxChars));
        var text = new StringBuilder();
        // A chunk goes in whole (with its trailing blank line) or not at all.
        bool Add(string chunk)
        {
            if (text.Length + chunk.Length > budget || Mentions(chunk, avoid)) return false;
            text.Append(chunk);
            return true;
        }
        if (Chance(0.15)) Add($"\"\"\"{Words(2, 6)}.\"\"\"\n");
        else if (Chance(0.15)) Add($"# {Comment()}\n");
        int imports = Int(0, 4);
        var lines = new List<string>();
        for (int i = 0; i < imports; i++)
        {
            string line = Pick(Imports);
            if (!lines.Contains(line)) lines.Add(line);
        }
        if (lines.Count > 0) Add(string.Join("\n", lines) + "\n\n");
        if (Chance(0.3))
        {
            var constants = new StringBuilder();
            int count = Int(1, 3);
            for (int i = 0; i < count; i++) constants.Append($"{Variable().ToUpperInvariant()} = {Literal()}\n");
            Add(constants.Append('\n').ToString());
        }
        int helpers = Int(0, 2);
        for (int i = 0; i < helpers; i++)
        {
            var helper = new StringBuilder($"def {Function()}({Parameters()}):\n");
            if (Chance(0.2)) helper.Append($"    \"\"\"{Words(2, 5)}.\"\"\"\n");
            helper.Append(Statements("    ", Int(20, 120), avoid));
            helper.Append($"    return {(Chance(0.5) ? Variable() : CallExpression())}\n\n");
            if (Chance(0.4)) helper.Append('\n');
            Add(helper.ToString());
        }
        return text.ToString();
    }

    /// <summary>Where the cue code goes, and the indentation it must use.</summary>
    public readonly record struct Frame(string Opening, string Indent);

    /// <summary>
    /// Opens a place for the cue: module level, a function body, a method body, or a block
    /// nested in either. <paramref name="maxDepth"/> limits nesting (0 = module level only).
    /// </summary>
    public Frame OpenFrame(int maxDepth = 3, params string[] avoid)
    {
        if (IsShort) return ShortFrame(maxDepth, avoid);
        var text = new StringBuilder();
        string indent = "";
        int kind = Int(0, 9);
        if (maxDepth >= 1 && kind >= 2 && kind <= 5)
        {
            text.Append($"def {Function()}({Parameters()}):\n");
            indent = "    ";
        }
        else if (maxDepth >= 2 && kind >= 6 && kind <= 8)
        {
            text.Append($"class {Class()}{(Chance(0.3) ? "(" + Pick(["object", "Base", "ABC", "Exception"]) + ")" : "")}:\n");
            if (Chance(0.3)) text.Append($"    {Variable()} = {Literal()}\n\n");
            string parameters = Parameters();
            text.Append($"    def {Function()}(self{(parameters.Length > 0 ? ", " + parameters : "")}):\n");
            indent = "        ";
        }
        else if (maxDepth >= 2 && kind == 9)
        {
            text.Append($"def {Function()}({Parameters()}):\n");
            text.Append(Statements("    ", Int(0, 80), avoid));
            var (one, many) = Collection();
            text.Append(Int(0, 3) switch
            {
                0 => $"    for {one} in {many}:\n",
                1 => $"    if {Variable()}:\n",
                2 => "    try:\n",
                _ => $"    while {Variable()} < {Number()}:\n",
            });
            indent = "        ";
        }
        if (indent.Length > 0 && Chance(0.15)) text.Append($"{indent}\"\"\"{Words(2, 5)}.\"\"\"\n");
        string opening = text.ToString();
        return Mentions(opening, avoid) ? OpenFrame(maxDepth, avoid) : new Frame(opening, indent);
    }

    /// <summary>A short prompt's frame: module level, or right inside a def or a method.</summary>
    Frame ShortFrame(int maxDepth, string[] avoid)
    {
        int kind = Int(0, 9);
        string opening;
        if (maxDepth >= 1 && kind >= 4 && kind <= 7) opening = $"def {Function()}({Parameters(2)}):\n";
        else if (maxDepth >= 2 && kind >= 8)
        {
            string parameters = Parameters(2);
            opening = $"class {Class()}:\n    def {Function()}(self{(parameters.Length > 0 ? ", " + parameters : "")}):\n";
        }
        else return new Frame("", "");
        if (Mentions(opening, avoid)) return ShortFrame(maxDepth, avoid);
        return new Frame(opening, opening.StartsWith("class", StringComparison.Ordinal) ? "        " : "    ");
    }

    /// <summary>Header, frame and filler in one go: the text before the cue's first line, and the cue's indentation.</summary>
    public (string Before, string Indent) Scaffold(int maxDepth = 3, int maxFillerChars = 160, params string[] avoid)
    {
        string header = Header(MaxContextChars - maxFillerChars - 60, avoid);
        var frame = OpenFrame(maxDepth, avoid);
        string filler = IsShort && Chance(0.5) ? "" : Statements(frame.Indent, Int(0, maxFillerChars), avoid);
        return (header + frame.Opening + filler, frame.Indent);
    }
}

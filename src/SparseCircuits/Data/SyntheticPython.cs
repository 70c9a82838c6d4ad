using System.Text;
using SparseCircuits.Core;
using static SparseCircuits.Data.SyntheticPools;

namespace SparseCircuits.Data;

/// <summary>
/// A generator of short, simple, idiomatic Python programs: the "simple Python" half of the
/// paper's training data, which we cannot download and so write ourselves (docs/training.md).
/// A program is a few imports, functions, a class and a main block built from the everyday idioms
/// (loops, conditionals, strings in both quote styles, f-strings, lists/dicts/sets and nesting,
/// comprehensions, <c>with open</c>, lambdas, <c>while True</c>, try/except ...). Statements only
/// use names already defined with a type the statement fits (a set gets <c>.add</c>, a string
/// <c>+=</c>), so the code is consistent enough to be learnable from few tokens.
/// Everything is drawn from one <see cref="SplitMix64"/>: a seed fixes the text.
/// </summary>
public sealed class SyntheticPython
{
    enum Kind { Int, Str, List, Dict, Set, Bool, Float, Object }

    sealed record Variable(string Name, Kind Kind);

    readonly SplitMix64 _random;
    readonly StringBuilder _out = new();
    readonly List<(string Name, int Arity)> _functions = [];
    readonly List<string> _classes = [];
    // One file mostly uses one quote style, as real files do; the other still appears.
    string _quote = "\"";

    public SyntheticPython(SplitMix64 random) => _random = random;

    /// <summary>One program, ending with a newline.</summary>
    public static string Program(SplitMix64 random) => new SyntheticPython(random).Write();

    /// <summary>Programs from <paramref name="seed"/> until their UTF-8 size reaches <paramref name="bytes"/>.</summary>
    public static IEnumerable<string> Programs(ulong seed, long bytes)
    {
        var random = new SplitMix64(seed);
        long written = 0;
        while (written < bytes)
        {
            string program = Program(random);
            written += Encoding.UTF8.GetByteCount(program);
            yield return program;
        }
    }

    string Write()
    {
        _quote = Chance(0.6) ? "\"" : "'";
        if (Chance(0.2)) Line(0, $"\"\"\"{Sentence()}.\"\"\"");
        if (Chance(0.5))
        {
            foreach (string module in Distinct(Int(1, 2), () => Pick(Modules))) Line(0, $"import {module}");
            Blank();
        }
        int items = Int(1, 4);
        for (int i = 0; i < items; i++)
        {
            switch (Int(0, 9))
            {
                case <= 4: Function(); break;
                case <= 6: Class(); break;
                default: ModuleStatements(); break;
            }
            Blank();
        }
        if (Chance(0.5)) Main();
        return _out.ToString().TrimEnd('\n') + "\n";
    }

    // ---- top-level items ----

    void Function()
    {
        string name = FunctionName();
        var scope = new List<Variable>();
        var parameters = new List<string>();
        int arity = Int(0, 3);
        foreach (var v in FreshVariables(arity, scope))
        {
            scope.Add(v);
            parameters.Add(v.Name);
        }
        // Keyword parameters with defaults come last, as Python requires: once one has a default,
        // every later one has one too.
        int keywords = Chance(0.35) ? Int(1, 3) : 0;
        for (int k = 0; k < keywords; k++)
        {
            var v = FreshVariable(scope, Pick([Kind.Int, Kind.Str, Kind.Bool, Kind.List]));
            scope.Add(v);
            parameters.Add($"{v.Name}={Pick(["None", DefaultOf(v.Kind)])}");
        }
        Line(0, $"def {name}({string.Join(", ", parameters)}):");
        if (Chance(0.25)) Line(1, $"\"\"\"{Sentence()}.\"\"\"");
        Body(1, scope, Int(1, 5), inFunction: true);
        Return(1, scope);
        _functions.Add((name, arity));
    }

    void Class()
    {
        string name = Pick(Kinds) + (Chance(0.3) ? Pick(ClassSuffixes) : "");
        Line(0, $"class {name}{(Chance(0.15) ? "(object)" : "")}:");
        if (Chance(0.2)) Line(1, $"\"\"\"{Sentence()}.\"\"\"");
        var fields = FreshVariables(Int(1, 4), []);
        // The last parameters may take defaults; attributes are stored in any order, with an extra
        // one anywhere among them. Always storing them in parameter order would teach "the next
        // parameter" where real constructors need "the parameter of this attribute's name".
        int defaults = Chance(0.3) ? Int(1, fields.Count) : 0;
        var parameters = fields.Select((f, i) => i >= fields.Count - defaults ? $"{f.Name}={DefaultOf(f.Kind)}" : f.Name);
        Line(1, $"def __init__(self, {string.Join(", ", parameters)}):");
        var stores = fields.Select(f => $"self.{f.Name} = {f.Name}").ToList();
        if (Chance(0.5)) stores = Shuffled(stores);
        if (Chance(0.4))
        {
            var extra = FreshVariable(fields, Pick([Kind.Int, Kind.List, Kind.Dict, Kind.Set]));
            stores.Insert(Int(0, stores.Count), $"self.{extra.Name} = {Empty(extra.Kind)}");
            fields = [.. fields, extra];
        }
        foreach (string store in stores) Line(2, store);
        int methods = Int(1, 3);
        for (int m = 0; m < methods; m++)
        {
            Blank();
            var field = Pick(fields);
            switch (Int(0, 4))
            {
                case 0:
                    Line(1, "def __repr__(self):");
                    Line(2, $"return f{_quote}{name}({string.Join(", ", fields.Take(2).Select(f => $"{f.Name}={{self.{f.Name}}}"))}){_quote}");
                    break;
                case 1 when field.Kind is Kind.Int or Kind.Float:
                    Line(1, $"def add_{field.Name}(self, amount=1):");
                    Line(2, $"self.{field.Name} += amount");
                    if (Chance(0.5)) Line(2, $"return self.{field.Name}");
                    break;
                case 2 when field.Kind is Kind.List or Kind.Set:
                    string one = Pick(Letters);
                    Line(1, $"def has_{field.Name}(self, {one}):");
                    Line(2, $"return {one} in self.{field.Name}");
                    break;
                case 3:
                    Line(1, $"def is_{Pick(Qualifiers).TrimEnd('_')}(self):");
                    Line(2, $"return {Condition(fields.Select(f => f with { Name = "self." + f.Name }).ToList())}");
                    break;
                default:
                    Line(1, $"def {FunctionName()}(self):");
                    var scope = fields.Select(f => f with { Name = "self." + f.Name }).ToList();
                    Body(2, scope, Int(1, 3), inFunction: true);
                    Return(2, scope);
                    break;
            }
        }
        _classes.Add(name);
    }

    void ModuleStatements()
    {
        var scope = new List<Variable>();
        Body(0, scope, Int(2, 5), inFunction: false);
    }

    void Main()
    {
        Line(0, $"if __name__ == {Quoted("__main__")}:");
        var scope = new List<Variable>();
        int calls = Int(1, 3);
        for (int i = 0; i < calls; i++)
        {
            if (_functions.Count > 0 && Chance(0.6))
            {
                var (name, arity) = Pick(_functions);
                string args = string.Join(", ", Enumerable.Range(0, arity).Select(_ => Literal(Pick([Kind.Int, Kind.Str, Kind.List]))));
                if (Chance(0.5)) Line(1, $"print({name}({args}))");
                else
                {
                    var v = FreshVariable(scope, Kind.Object);
                    Line(1, $"{v.Name} = {name}({args})");
                    scope.Add(v);
                }
            }
            else Statement(1, scope, inFunction: false);
        }
    }

    // ---- blocks and statements ----

    void Body(int depth, List<Variable> scope, int statements, bool inFunction)
    {
        for (int i = 0; i < statements; i++) Statement(depth, scope, inFunction);
    }

    /// <summary>The end of a function body: a return of a name, a constant or a search result, or nothing.</summary>
    void Return(int depth, List<Variable> scope)
    {
        if (Chance(0.2)) return;
        var list = Find(scope, Kind.List);
        if (list is not null && Chance(0.3))
        {
            string one = Singular(list.Name);
            Line(depth, $"for {one} in {list.Name}:");
            Line(depth + 1, $"if {one} {Pick(["==", ">", "<"])} {Literal(Kind.Int)}:");
            Line(depth + 2, "return True");
            Line(depth, "return False");
            return;
        }
        string value = Int(0, 5) switch
        {
            0 => "True",
            1 => "False",
            2 => "None",
            _ when scope.Count > 0 => Chance(0.7) ? Pick(scope).Name : Expression(scope, Kind.Int),
            _ => Literal(Kind.Int),
        };
        Line(depth, $"return {value}");
    }

    void Statement(int depth, List<Variable> scope, bool inFunction)
    {
        // Nesting and long blocks thin out with depth so programs stay short.
        bool canNest = depth < 3;
        int choice = Int(0, canNest ? 23 : 11);
        switch (choice)
        {
            case 0 or 1: Assign(depth, scope); break;
            case 2: Update(depth, scope); break;
            case 3: Print(depth, scope); break;
            case 4: SwapOrUnpack(depth, scope); break;
            case 5: Lambda(depth, scope); break;
            case 6: Comprehension(depth, scope); break;
            case 7: Ternary(depth, scope); break;
            case 8: CallStatement(depth, scope); break;
            case 9: Nested(depth, scope); break;
            case 10: Print(depth, scope); break;
            case 11: Assert(depth, scope); break;
            case 12 or 13: If(depth, scope, inFunction); break;
            case 14 or 15: For(depth, scope, inFunction); break;
            case 16: While(depth, scope, inFunction); break;
            case 17: WhileTrue(depth, scope, inFunction); break;
            case 18: WithOpen(depth, scope); break;
            case 19: Try(depth, scope, inFunction); break;
            case 20: Accumulate(depth, scope, inFunction); break;
            case 21: Search(depth, scope, inFunction); break;
            default: Assign(depth, scope); break;
        }
    }

    void Assign(int depth, List<Variable> scope)
    {
        var kind = Pick([Kind.Int, Kind.Int, Kind.Str, Kind.Str, Kind.List, Kind.Dict, Kind.Set, Kind.Bool, Kind.Float]);
        var v = FreshVariable(scope, kind);
        string value = kind == Kind.Set && Chance(0.5) ? "set()" : Chance(0.75) || scope.Count == 0 ? Literal(kind) : Expression(scope, kind);
        Line(depth, $"{v.Name} = {value}");
        scope.Add(v);
    }

    /// <summary>Grows a variable the way its type allows: <c>+=</c> on numbers and strings, <c>.add</c> on sets, <c>.append</c> on lists.</summary>
    void Update(int depth, List<Variable> scope)
    {
        var v = Find(scope, Kind.Int, Kind.Str, Kind.List, Kind.Set, Kind.Dict, Kind.Float);
        if (v is null) { Assign(depth, scope); return; }
        Line(depth, v.Kind switch
        {
            Kind.Int => $"{v.Name} {Pick(["+=", "+=", "-=", "*="])} {Literal(Kind.Int)}",
            Kind.Float => $"{v.Name} {Pick(["+=", "*=", "/="])} {Literal(Kind.Float)}",
            Kind.Str => $"{v.Name} += {Literal(Kind.Str)}",
            Kind.List => Chance(0.7) ? $"{v.Name}.append({Literal(Pick([Kind.Int, Kind.Str]))})" : $"{v.Name}.extend({Literal(Kind.List)})",
            Kind.Set => $"{v.Name}.add({Literal(Pick([Kind.Int, Kind.Str]))})",
            _ => $"{v.Name}[{Literal(Kind.Str)}] = {Literal(Kind.Int)}",
        });
    }

    void Print(int depth, List<Variable> scope)
    {
        var v = scope.Count > 0 ? Pick(scope) : null;
        string q = Q();
        string words = Phrase();
        Line(depth, Int(0, 6) switch
        {
            0 => $"print({q}{words}{q})",
            1 when v is not null => $"print(f{q}{words} {{{v.Name}}}{q})",
            2 when v is not null => $"print({q}{words}:{q}, {v.Name})",
            3 when v is not null => $"print(f{q}{{{v.Name}}} {words}{q})",
            4 when v is not null => $"print({v.Name})",
            5 when v is not null => $"print({q}{words}{q}, {v.Name})",
            _ => $"print({q}{words}{q}{(Chance(0.3) ? $", end={Quoted("")}" : "")})",
        });
    }

    void SwapOrUnpack(int depth, List<Variable> scope)
    {
        var ints = scope.Where(v => v.Kind == Kind.Int && !v.Name.Contains('.')).Select(v => v.Name).Distinct().ToList();
        if (ints.Count >= 2 && Chance(0.7))
        {
            string a = Pick(ints);
            string b = Pick(ints.Where(x => x != a).ToList());
            Line(depth, $"{a}, {b} = {b}, {a}");
            return;
        }
        var first = FreshVariable(scope, Kind.Int);
        scope.Add(first);
        var second = FreshVariable(scope, Kind.Int);
        scope.Add(second);
        Line(depth, $"{first.Name}, {second.Name} = {Literal(Kind.Int)}, {Literal(Kind.Int)}");
    }

    void Lambda(int depth, List<Variable> scope)
    {
        string p = Pick(Letters);
        var list = Find(scope, Kind.List);
        if (list is not null && Chance(0.5))
        {
            Line(depth, $"{list.Name}.sort(key=lambda {p}: {Pick([$"-{p}", $"str({p})", $"abs({p})", $"len(str({p}))"])})");
            return;
        }
        var f = FreshFunctionVariable(scope);
        Line(depth, Int(0, 2) switch
        {
            0 => $"{f} = lambda {p}: {p} {Pick(["*", "+", "-", "%"])} {Int(2, 9)}",
            1 => LambdaOfTwo(f, p, Pick(Letters.Where(l => l != p).ToList())),
            _ => $"{f} = lambda: {Literal(Pick([Kind.Int, Kind.Str]))}",
        });
    }

    string LambdaOfTwo(string f, string p, string q) => $"{f} = lambda {p}, {q}: {p} {Pick(["+", "*", ">", "-"])} {q}";

    void Comprehension(int depth, List<Variable> scope)
    {
        var source = Find(scope, Kind.List);
        string items = source?.Name ?? $"range({Int(2, 12)})";
        string p = Pick(Letters);
        var kind = Chance(0.25) ? Kind.Dict : Chance(0.2) ? Kind.Set : Kind.List;
        var v = FreshVariable(scope, kind);
        string filter = Chance(0.4) ? $" if {p} {Pick([">", "<", "!="])} {Int(0, 5)}" : "";
        string body = Pick([$"{p} * {Int(2, 4)}", $"{p} + {Int(1, 9)}", $"str({p})", p, $"{p} ** 2"]);
        Line(depth, kind switch
        {
            Kind.Dict => $"{v.Name} = {{{p}: {body} for {p} in {items}{filter}}}",
            Kind.Set => $"{v.Name} = {{{body} for {p} in {items}{filter}}}",
            _ => $"{v.Name} = [{body} for {p} in {items}{filter}]",
        });
        scope.Add(v);
    }

    void Ternary(int depth, List<Variable> scope)
    {
        var kind = Pick([Kind.Int, Kind.Str]);
        var v = FreshVariable(scope, kind);
        Line(depth, $"{v.Name} = {Literal(kind)} if {Condition(scope)} else {Literal(kind)}");
        scope.Add(v);
    }

    void CallStatement(int depth, List<Variable> scope)
    {
        if (_functions.Count > 0 && Chance(0.6))
        {
            var (name, arity) = Pick(_functions);
            var args = Enumerable.Range(0, arity).Select(_ => scope.Count > 0 && Chance(0.5) ? Pick(scope).Name : Literal(Pick([Kind.Int, Kind.Str])));
            var v = FreshVariable(scope, Kind.Object);
            Line(depth, $"{v.Name} = {name}({string.Join(", ", args)})");
            scope.Add(v);
            return;
        }
        if (_classes.Count > 0 && Chance(0.5))
        {
            var v = FreshVariable(scope, Kind.Object);
            int n = Int(0, 2);
            var args = Enumerable.Range(0, n).Select(_ => Literal(Pick([Kind.Int, Kind.Str, Kind.List]))).ToList();
            // Keyword arguments follow positional ones.
            if (Chance(0.4)) args.Add($"{Pick(Measures)}={Literal(Kind.Int)}");
            Line(depth, $"{v.Name} = {Pick(_classes)}({string.Join(", ", args)})");
            scope.Add(v);
            return;
        }
        var list = Find(scope, Kind.List);
        if (list is not null)
        {
            var v = FreshVariable(scope, Pick([Kind.Int, Kind.List]));
            Line(depth, v.Kind == Kind.Int
                ? $"{v.Name} = {Pick(["len", "sum", "max", "min"])}({list.Name})"
                : $"{v.Name} = sorted({list.Name}{(Chance(0.4) ? ", reverse=True" : "")})");
            scope.Add(v);
        }
        else Print(depth, scope);
    }

    void Nested(int depth, List<Variable> scope)
    {
        if (Chance(0.4)) { MultiLineLiteral(depth, scope); return; }
        // Nested literals: lists of lists, dicts of lists, lists of dicts.
        var v = FreshVariable(scope, Chance(0.5) ? Kind.List : Kind.Dict);
        string Inner() => $"[{string.Join(", ", Enumerable.Range(0, Int(1, 3)).Select(_ => Literal(Kind.Int)))}]";
        Line(depth, v.Kind == Kind.List
            ? Chance(0.7)
                ? $"{v.Name} = [{string.Join(", ", Enumerable.Range(0, Int(2, 3)).Select(_ => Inner()))}]"
                : $"{v.Name} = [{string.Join(", ", Enumerable.Range(0, Int(1, 2)).Select(_ => $"{{{Str()}: {Literal(Kind.Int)}}}"))}]"
            : $"{v.Name} = {{{string.Join(", ", Enumerable.Range(0, Int(1, 3)).Select(_ => $"{Str()}: {Inner()}"))}}}");
        scope.Add(v);
    }

    /// <summary>A list or dict written one element a line, as longer literals are in real code.</summary>
    void MultiLineLiteral(int depth, List<Variable> scope)
    {
        var v = FreshVariable(scope, Chance(0.5) ? Kind.List : Kind.Dict);
        string Element() => scope.Count > 0 && Chance(0.3) ? Pick(scope).Name : Literal(Pick([Kind.Int, Kind.Str]));
        int count = Int(2, 4);
        bool trailingComma = Chance(0.6);
        Line(depth, $"{v.Name} = {(v.Kind == Kind.List ? "[" : "{")}");
        for (int i = 0; i < count; i++)
        {
            var key = Find(scope, Kind.Str, Kind.Int);
            string element = v.Kind == Kind.List ? Element() : $"{(key is not null && Chance(0.25) ? key.Name : Str())}: {Element()}";
            Line(depth + 1, element + (i < count - 1 || trailingComma ? "," : ""));
        }
        Line(depth, v.Kind == Kind.List ? "]" : "}");
        scope.Add(v);
    }

    void Assert(int depth, List<Variable> scope) =>
        Line(depth, $"assert {Condition(scope)}{(Chance(0.3) ? $", {Str()}" : "")}");

    void If(int depth, List<Variable> scope, bool inFunction)
    {
        Line(depth, $"if {Condition(scope)}:");
        Block(depth + 1, scope, inFunction);
        int elifs = Chance(0.35) ? Int(1, 2) : 0;
        for (int i = 0; i < elifs; i++)
        {
            Line(depth, $"elif {Condition(scope)}:");
            Block(depth + 1, scope, inFunction);
        }
        if (Chance(0.45))
        {
            Line(depth, "else:");
            Block(depth + 1, scope, inFunction);
        }
    }

    void For(int depth, List<Variable> scope, bool inFunction)
    {
        var list = Find(scope, Kind.List);
        var dict = Find(scope, Kind.Dict);
        var inner = new List<Variable>(scope);
        string one = list is not null ? Singular(list.Name) : Pick(Letters);
        switch (Int(0, 4))
        {
            case 0 when list is not null:
                Line(depth, $"for {one} in {list.Name}:");
                inner.Add(new Variable(one, Kind.Int));
                break;
            case 1 when list is not null:
                string index = Pick(IndexNames);
                Line(depth, $"for {index}, {one} in enumerate({list.Name}):");
                inner.Add(new Variable(index, Kind.Int));
                inner.Add(new Variable(one, Kind.Int));
                break;
            case 2 when dict is not null:
                string key = Pick(KeyNames), value = Pick(ValueNames);
                Line(depth, $"for {key}, {value} in {dict.Name}.items():");
                inner.Add(new Variable(key, Kind.Str));
                inner.Add(new Variable(value, Kind.Int));
                break;
            case 3 when list is not null:
                string i = Pick(IndexNames);
                Line(depth, $"for {i} in range(len({list.Name})):");
                inner.Add(new Variable(i, Kind.Int));
                break;
            default:
                string r = Pick(IndexNames);
                Line(depth, $"for {r} in range({RangeArgs()}):");
                inner.Add(new Variable(r, Kind.Int));
                break;
        }
        Block(depth + 1, inner, inFunction, loop: true);
        KeepNew(scope, inner);
    }

    void While(int depth, List<Variable> scope, bool inFunction)
    {
        var counter = FreshVariable(scope, Kind.Int);
        Line(depth, $"{counter.Name} = {Int(0, 3)}");
        scope.Add(counter);
        Line(depth, $"while {counter.Name} {Pick(["<", "<=", "!="])} {Int(4, 20)}:");
        var inner = new List<Variable>(scope);
        Block(depth + 1, inner, inFunction, loop: true, lines: Int(0, 2));
        Line(depth + 1, $"{counter.Name} += {Int(1, 3)}");
        KeepNew(scope, inner);
    }

    void WhileTrue(int depth, List<Variable> scope, bool inFunction)
    {
        Line(depth, "while True:");
        var inner = new List<Variable>(scope);
        Block(depth + 1, inner, inFunction, lines: Int(0, 2));
        Line(depth + 1, $"if {Condition(inner)}:");
        Line(depth + 2, inFunction && Chance(0.4) ? $"return {Pick(["True", "False", "None"])}" : "break");
        KeepNew(scope, inner);
    }

    /// <summary>
    /// Opening a file: with <c>with ... as</c> or a plain assignment, for reading or writing. The
    /// file is a literal, a path held in a variable or an f-string; half the time its name says
    /// the direction (<c>incoming_...</c> is read, <c>outbox_...</c> written) and the mode follows it,
    /// as it does in real code. Only literal file names taught the model that <c>open(</c> is always
    /// followed by a quoted name and one of five extensions, and a name never told read from write.
    /// </summary>
    void WithOpen(int depth, List<Variable> scope)
    {
        bool write = Chance(0.45);
        string f = Pick(write ? WriteHandles : ReadHandles);
        // The direction word, when there is one, goes into the file name or the path variable.
        string? cue = Chance(0.5) ? Pick(write ? WrittenFileWords : ReadFileWords) : null;
        string stem = cue is null ? Pick(FileStems) : Chance(0.5) ? $"{cue}_{Pick(FileStems)}" : cue;
        string file = $"{stem}.{Pick(FileKinds)}";
        string argument;
        switch (Int(0, 6))
        {
            case <= 1:
                argument = Quoted(file);
                break;
            case 2:
                // A name for the path, set just before, as scripts do.
                string pathName = $"{(cue ?? Pick(Things).Many)}_{Pick(PathSuffixes)}";
                Line(depth, $"{pathName} = {Quoted(file)}");
                scope.Add(new Variable(pathName, Kind.Str));
                argument = pathName;
                break;
            case 3 when cue is null && Find(scope, Kind.Str) is { } named && !named.Name.Contains('.'):
                // A string already in scope (often a parameter) holds the path.
                argument = named.Name;
                break;
            case 4 or 5 when Find(scope, Kind.Str) is { } part && !part.Name.Contains('.'):
                // An f-string path around a string in scope.
                argument = $"f{_quote}{Pick(Folders)}/{(cue is null ? "" : cue + "_")}{{{part.Name}}}.{Pick(FileKinds)}{_quote}";
                break;
            default:
                argument = Quoted($"{Pick(Folders)}/{file}");
                break;
        }
        string mode = write ? Pick(["w", "w", "a"]) : "r";
        var arguments = new List<string> { argument };
        if (write || Chance(0.5)) arguments.Add(Chance(0.2) ? $"mode={Quoted(mode)}" : Quoted(mode));
        if (Chance(0.2)) arguments.Add($"encoding={Quoted(Pick(Encodings))}");
        string call = $"open({string.Join(", ", arguments)})";
        bool plain = Chance(0.2);
        int inner = plain ? depth : depth + 1;
        Line(depth, plain ? $"{f} = {call}" : $"with {call} as {f}:");
        if (!write)
        {
            switch (Int(0, 3))
            {
                case 0:
                    string line = Pick(LineNames);
                    Line(inner, $"for {line} in {f}:");
                    Line(inner + 1, $"print({line}.strip())");
                    break;
                default:
                    var v = FreshVariable(scope, Chance(0.5) ? Kind.Str : Kind.List);
                    Line(inner, v.Kind == Kind.Str ? $"{v.Name} = {f}.{Pick(["read()", "read()", "readline()"])}" : $"{v.Name} = {f}.readlines()");
                    scope.Add(v);
                    break;
            }
        }
        else
        {
            var v = scope.Count > 0 ? Pick(scope) : null;
            Line(inner, v is null ? $"{f}.write({Str()})" : $"{f}.write(f{_quote}{Phrase()} {{{v.Name}}}\\n{_quote})");
        }
        if (plain) Line(depth, $"{f}.close()");
    }

    void Try(int depth, List<Variable> scope, bool inFunction)
    {
        Line(depth, "try:");
        var inner = new List<Variable>(scope);
        Block(depth + 1, inner, inFunction, lines: Int(1, 2));
        string error = Pick(Errors);
        Line(depth, Chance(0.5) ? $"except {error}:" : $"except {error} as {Pick(ErrorNames)}:");
        Line(depth + 1, Chance(0.5) ? $"print({Str()})" : inFunction ? $"return {Pick(["None", "False", "0"])}" : "pass");
        KeepNew(scope, inner);
    }

    /// <summary>The accumulate-in-a-loop idiom: a total, a string or a set built up element by element.</summary>
    void Accumulate(int depth, List<Variable> scope, bool inFunction)
    {
        var list = Find(scope, Kind.List);
        string items = list?.Name ?? Literal(Kind.List);
        var kind = Pick([Kind.Int, Kind.Str, Kind.Set, Kind.List]);
        var acc = FreshVariable(scope, kind);
        Line(depth, $"{acc.Name} = {Empty(kind)}");
        scope.Add(acc);
        // Other statements may come between the initialisation and its use, so the type must be
        // carried over a few lines, not read off the line above.
        int between = Chance(0.5) ? Int(1, 2) : 0;
        for (int i = 0; i < between; i++)
            if (Chance(0.5)) Print(depth, scope); else Assign(depth, scope);
        string one = list is not null ? Singular(list.Name) : Pick(Letters);
        Line(depth, $"for {one} in {items}:");
        int inner = depth + 1;
        if (Chance(0.3)) Line(inner++, $"if {one}:");
        Line(inner, kind switch
        {
            Kind.Int => $"{acc.Name} += {one}",
            Kind.Str => $"{acc.Name} += str({one})",
            Kind.Set => $"{acc.Name}.add({one})",
            _ => $"{acc.Name}.append({one})",
        });
    }

    /// <summary>Search a list and remember the outcome in a flag.</summary>
    void Search(int depth, List<Variable> scope, bool inFunction)
    {
        var list = Find(scope, Kind.List);
        if (list is null) { Assign(depth, scope); return; }
        string one = Singular(list.Name);
        var flag = FreshVariable(scope, Kind.Bool);
        Line(depth, $"{flag.Name} = False");
        scope.Add(flag);
        Line(depth, $"for {one} in {list.Name}:");
        Line(depth + 1, $"if {one} == {Literal(Pick([Kind.Int, Kind.Str]))}:");
        Line(depth + 2, $"{flag.Name} = True");
        Line(depth + 2, "break");
    }

    void Block(int depth, List<Variable> scope, bool inFunction, bool loop = false, int? lines = null)
    {
        int n = lines ?? Int(1, 2);
        if (n == 0 && !loop) n = 1;
        for (int i = 0; i < n; i++)
        {
            if (loop && i > 0 && Chance(0.2))
            {
                Line(depth, $"if {Condition(scope)}:");
                Line(depth + 1, Pick(["continue", "break"]));
            }
            else Statement(depth, scope, inFunction);
        }
        if (n == 0) Line(depth, Chance(0.5) ? "pass" : $"print({Str()})");
    }

    /// <summary>Names defined inside a block stay visible after it (Python has no block scope), except loop variables.</summary>
    static void KeepNew(List<Variable> scope, List<Variable> inner)
    {
        foreach (var v in inner.Skip(scope.Count)) if (!scope.Any(s => s.Name == v.Name)) scope.Add(v);
    }

    // ---- expressions ----

    string Condition(IReadOnlyList<Variable> scope)
    {
        var v = scope.Count > 0 ? Pick(scope) : null;
        if (v is null) return Pick(["True", $"{Int(1, 9)} > {Int(0, 9)}", $"len({Literal(Kind.List)}) > 1"]);
        return v.Kind switch
        {
            Kind.Int or Kind.Float => $"{v.Name} {Pick(["==", "!=", "<", ">", "<=", ">="])} {Literal(Kind.Int)}",
            Kind.Str => Pick([$"{v.Name} == {Str()}", $"{v.Name} != {Str()}", $"{v.Name}.startswith({Str()})", $"not {v.Name}", $"len({v.Name}) > {Int(0, 5)}"]),
            Kind.List or Kind.Set => Pick([$"{Literal(Kind.Int)} in {v.Name}", $"len({v.Name}) {Pick(["==", ">", "<"])} {Int(0, 5)}", $"not {v.Name}", v.Name]),
            Kind.Dict => Pick([$"{Str()} in {v.Name}", $"len({v.Name}) > {Int(0, 3)}", $"not {v.Name}"]),
            Kind.Bool => Pick([v.Name, $"not {v.Name}", $"{v.Name} == True", $"{v.Name} is False"]),
            _ => Pick([$"{v.Name} is None", $"{v.Name} is not None", $"{v.Name} == {Literal(Kind.Int)}"]),
        };
    }

    /// <summary>An expression of <paramref name="kind"/> that uses names in scope where it can.</summary>
    string Expression(IReadOnlyList<Variable> scope, Kind kind)
    {
        var same = scope.Where(v => v.Kind == kind).ToList();
        var source = same.Count > 0 ? Pick(same) : null;
        if (source is null) return Literal(kind);
        return kind switch
        {
            Kind.Int => $"{source.Name} {Pick(["+", "-", "*", "//", "%"])} {Int(1, 9)}",
            Kind.Float => $"{source.Name} * {Literal(Kind.Float)}",
            Kind.Str => Pick([$"{source.Name} + {Str()}", $"{source.Name}.upper()", $"{source.Name}.strip()", $"f{_quote}{{{source.Name}}}!{_quote}"]),
            Kind.List => Pick([$"{source.Name} + {Literal(Kind.List)}", $"{source.Name}[:{Int(1, 3)}]", $"list({source.Name})"]),
            Kind.Set => $"set({source.Name})",
            Kind.Dict => $"dict({source.Name})",
            Kind.Bool => $"not {source.Name}",
            _ => source.Name,
        };
    }

    string Literal(Kind kind) => kind switch
    {
        Kind.Int => Int(0, 9) switch { <= 5 => Int(0, 10).ToString(), <= 8 => Int(10, 100).ToString(), _ => (Int(1, 9) * 100).ToString() },
        Kind.Float => $"{Int(0, 9)}.{Int(0, 9)}{(Chance(0.3) ? Int(1, 9).ToString() : "")}",
        Kind.Str => Str(),
        Kind.List => $"[{string.Join(", ", Enumerable.Range(0, Int(0, 4)).Select(_ => Chance(0.7) ? Literal(Kind.Int) : Str()))}]",
        Kind.Dict => $"{{{string.Join(", ", Enumerable.Range(0, Int(0, 3)).Select(_ => $"{Str()}: {Literal(Kind.Int)}"))}}}",
        Kind.Set => $"{{{string.Join(", ", Enumerable.Range(0, Int(1, 3)).Select(_ => Literal(Kind.Int)))}}}",
        Kind.Bool => Chance(0.5) ? "True" : "False",
        _ => "None",
    };

    static string Empty(Kind kind) => kind switch
    {
        Kind.Int => "0",
        Kind.Float => "0.0",
        Kind.Str => "\"\"",
        Kind.List => "[]",
        Kind.Dict => "{}",
        Kind.Set => "set()",
        Kind.Bool => "False",
        _ => "None",
    };

    string DefaultOf(Kind kind) => kind switch
    {
        Kind.Int => Int(0, 10).ToString(),
        Kind.Str => Str(),
        Kind.Bool => Chance(0.5) ? "True" : "False",
        _ => "None",
    };

    string RangeArgs() => Int(0, 3) switch
    {
        0 => $"{Int(1, 5)}, {Int(6, 20)}",
        1 => $"0, {Int(6, 30)}, {Int(2, 5)}",
        _ => Int(2, 12).ToString(),
    };

    /// <summary>A string literal of words, mostly in the file's quote style.</summary>
    string Str() => Quoted(Phrase());

    string Quoted(string text) { string q = Q(); return $"{q}{text}{q}"; }

    string Q() => Chance(0.85) ? _quote : _quote == "\"" ? "'" : "\"";

    string Phrase()
    {
        int n = Int(1, 3);
        var words = Enumerable.Range(0, n).Select(_ => Pick(Words)).ToArray();
        if (Chance(0.3)) words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
        return string.Join(' ', words);
    }

    string Sentence() { string p = Phrase(); return char.ToUpperInvariant(p[0]) + p[1..] + " " + Pick(Words); }

    // ---- names ----

    string FunctionName() => Chance(0.8) ? $"{Pick(Actions)}_{Pick(Things).Many}" : Pick(Actions);

    Variable FreshVariable(IReadOnlyList<Variable> scope, Kind kind)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            string name = NameFor(kind);
            if (!scope.Any(v => v.Name == name)) return new Variable(name, kind);
        }
        return new Variable(NameFor(kind) + "_" + Int(2, 99), kind);
    }

    List<Variable> FreshVariables(int count, IReadOnlyList<Variable> scope)
    {
        var list = new List<Variable>();
        while (list.Count < count)
            list.Add(FreshVariable([.. scope, .. list], Pick([Kind.Int, Kind.Str, Kind.List, Kind.Dict, Kind.Float])));
        return list;
    }

    string FreshFunctionVariable(IReadOnlyList<Variable> scope)
    {
        string name = Pick(LambdaNames);
        return scope.Any(v => v.Name == name) ? name + "_fn" : name;
    }

    string NameFor(Kind kind)
    {
        var (one, many) = Pick(Things);
        string qualifier = Pick(Qualifiers).TrimEnd('_');
        // Half the names say nothing of their type, as in real code (`names` may be a set, a list
        // or a string): the model must then carry the type from the assignment to the use. With
        // names that always told the type, it learned to read the name and never the assignment.
        if (Chance(0.5))
            return kind is Kind.Int or Kind.Float or Kind.Bool
                ? Pick([$"{qualifier}_{one}", $"{one}_value", $"my_{one}"])
                : Pick([many, $"{qualifier}_{many}", $"my_{many}", $"{one}_data", $"{qualifier}_{one}"]);
        return kind switch
        {
            Kind.Int => Chance(0.5) ? Pick(Measures) : $"num_{many}",
            Kind.Float => Pick(["avg_", "mean_", "rate_", "ratio_"]) + one,
            Kind.Str => Chance(0.5) ? $"{one}_name" : $"{qualifier}_{one}_text",
            Kind.List => Chance(0.6) ? many : $"{qualifier}_{many}",
            Kind.Dict => Pick([$"{one}_map", $"{one}_counts", $"by_{one}", $"{qualifier}_{one}_info"]),
            Kind.Set => Pick([$"seen_{many}", $"{qualifier}_{one}_set", $"unique_{many}"]),
            Kind.Bool => Pick([$"has_{many}", $"is_{qualifier}", $"{one}_found", $"{one}_ok"]),
            _ => Chance(0.5) ? $"{qualifier}_{one}" : $"my_{one}",
        };
    }

    /// <summary>The element name for a plural: <c>apples</c> -> <c>apple</c>; anything else gets a loop letter.</summary>
    string Singular(string plural)
    {
        foreach (var (one, many) in Things)
            if (plural == many || plural.EndsWith("_" + many, StringComparison.Ordinal)) return one;
        return Pick(Letters);
    }

    // ---- output and randomness ----

    void Line(int depth, string code) => _out.Append(' ', 4 * depth).Append(code).Append('\n');

    void Blank()
    {
        if (_out.Length > 0 && !(_out.Length >= 2 && _out[^1] == '\n' && _out[^2] == '\n')) _out.Append('\n');
    }

    Variable? Find(IReadOnlyList<Variable> scope, params Kind[] kinds)
    {
        var matching = scope.Where(v => kinds.Contains(v.Kind)).ToList();
        return matching.Count == 0 ? null : Pick(matching);
    }

    IEnumerable<T> Distinct<T>(int count, Func<T> draw)
    {
        var set = new List<T>();
        for (int i = 0; i < count * 4 && set.Count < count; i++)
        {
            T x = draw();
            if (!set.Contains(x)) set.Add(x);
        }
        return set;
    }

    int Int(int min, int max) => min + (int)_random.NextBelow((ulong)(max - min + 1));

    bool Chance(double p) => _random.NextDouble() < p;

    T Pick<T>(IReadOnlyList<T> options) => options[(int)_random.NextBelow((ulong)options.Count)];

    List<T> Shuffled<T>(IReadOnlyList<T> items)
    {
        var list = items.ToList();
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = Int(0, i);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}

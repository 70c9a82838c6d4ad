using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Data;

/// <summary>The simple-Python generator: determinism, validity, variety, idiom coverage, and independence from the task generators.</summary>
public sealed class SyntheticPythonTests
{
    static List<string> Programs(ulong seed, int count)
    {
        var random = new SplitMix64(seed);
        return Enumerable.Range(0, count).Select(_ => SyntheticPython.Program(random)).ToList();
    }

    [Fact]
    public void Same_seed_gives_the_same_programs_and_another_seed_others()
    {
        Assert.Equal(Programs(3, 50), Programs(3, 50));
        Assert.Empty(Programs(3, 50).Intersect(Programs(4, 50)));
    }

    [Fact]
    public void Programs_are_short_distinct_and_use_both_quote_styles()
    {
        var programs = Programs(1, 400);
        Assert.Equal(programs.Count, programs.Distinct().Count());
        Assert.All(programs, p => Assert.InRange(p.Split('\n').Length, 3, 120));
        Assert.All(programs, p => Assert.EndsWith("\n", p));
        Assert.InRange(programs.Count(p => p.Contains("= \"") || p.Contains("(\"")), 100, 400);
        Assert.InRange(programs.Count(p => p.Contains("= '") || p.Contains("('")), 100, 400);
        // Variety of structure: the first lines of programs are far from one template.
        Assert.True(programs.Select(p => p.Split('\n')[0]).Distinct().Count() > 200);
    }

    [Fact]
    public void Every_idiom_the_tasks_probe_appears_in_a_few_hundred_programs()
    {
        string all = string.Join("\n", Programs(2, 600));
        string[] idioms =
        [
            "while True:", "return True", "return False", " as f", "with open(", ", 'w')", "lambda ", "f\"", "f'", ".add(", " += ",
            "elif ", "else:", " if ", " else ", "for i, ", "enumerate(", "range(", "[[", "]]", "{", ": ", "def __init__(self, ",
            "self.", " == ", "=None", "try:", "except ", " = set()", " = \"\"", "print(", "break", "import ",
        ];
        Assert.All(idioms, idiom => Assert.Contains(idiom, all));
        // The swap idiom: a, b = b, a
        Assert.Matches(@"(\w+), (\w+) = \2, \1\n", all);
    }

    [Fact]
    public void Files_are_opened_by_literal_variable_and_f_string_and_their_direction_words_fix_the_mode()
    {
        var calls = Regex.Matches(string.Join("\n", Programs(8, 1500)), @"open\((?<path>[^,)]+)(?:, (?:mode=)?(?<q>['""])(?<mode>\w+)\k<q>)?[^)]*\)")
            .Select(m => (Path: m.Groups["path"].Value, Mode: m.Groups["mode"].Success ? m.Groups["mode"].Value : "r")).ToList();
        Assert.True(calls.Count > 200, $"only {calls.Count} open() calls");
        // Not only quoted names: a model that saw nothing else expects `open(` to go on with a quote and an extension.
        double Share(Func<string, bool> form) => calls.Count(c => form(c.Path)) / (double)calls.Count;
        Assert.InRange(Share(p => p[0] is '"' or '\''), 0.3, 0.8);
        Assert.InRange(Share(p => p.StartsWith("f\"") || p.StartsWith("f'")), 0.05, 0.4);
        Assert.InRange(Share(p => char.IsLetter(p[0]) && !p.StartsWith("f\"") && !p.StartsWith("f'")), 0.1, 0.5);
        // Half the names say the direction, and then the mode agrees with it.
        var read = calls.Where(c => SyntheticPools.ReadFileWords.Any(c.Path.Contains)).ToList();
        var written = calls.Where(c => SyntheticPools.WrittenFileWords.Any(c.Path.Contains)).ToList();
        Assert.InRange((read.Count + written.Count) / (double)calls.Count, 0.3, 0.7);
        Assert.NotEmpty(read);
        Assert.NotEmpty(written);
        Assert.All(read, c => Assert.Equal("r", c.Mode));
        Assert.All(written, c => Assert.Contains(c.Mode, new[] { "w", "a" }));
        // Without a direction word both modes occur.
        var plain = calls.Except(read).Except(written).ToList();
        Assert.Contains(plain, c => c.Mode == "r");
        Assert.Contains(plain, c => c.Mode is "w" or "a");
    }

    [Fact]
    public void Names_do_not_give_away_their_type()
    {
        // A variable's type must be read from its assignment: the same name is set up as a set in
        // one program and as a list or string in another, and many sets have no set-like name.
        var inits = Regex.Matches(string.Join("\n", Programs(11, 1500)),
                @"^\s*(\w+) = (set\(\)|""""|''|\[\])$", RegexOptions.Multiline)
            .Select(m => (Name: m.Groups[1].Value, Kind: m.Groups[2].Value switch { "set()" => "set", "[]" => "list", _ => "str" }))
            .ToList();
        var sets = inits.Where(i => i.Kind == "set").ToList();
        Assert.True(sets.Count > 100, $"{sets.Count} set() initialisations");
        int plain = sets.Count(s => !s.Name.Contains("seen_") && !s.Name.Contains("unique_") && !s.Name.EndsWith("_set"));
        Assert.InRange(plain / (double)sets.Count, 0.3, 0.7);
        int shared = inits.GroupBy(i => i.Name).Count(g => g.Select(i => i.Kind).Distinct().Count() >= 2);
        Assert.True(shared >= 20, $"{shared} names initialised with two types");
    }

    [Fact]
    public void Constructors_and_signatures_vary_beyond_one_template()
    {
        string all = string.Join("\n", Programs(12, 800));
        // __init__ stores attributes out of parameter order in some classes, in order in others.
        var inits = Regex.Matches(all, @"def __init__\(self, ([^)]*)\):\n((?:        self\.\w+ = \w+.*\n)+)");
        int inOrder = 0, reordered = 0;
        foreach (Match m in inits)
        {
            var parameters = m.Groups[1].Value.Split(", ").Select(p => p.Split('=')[0]).ToList();
            var stored = Regex.Matches(m.Groups[2].Value, @"self\.(\w+) = (\w+)\n")
                .Where(s => s.Groups[1].Value == s.Groups[2].Value).Select(s => s.Groups[1].Value).ToList();
            if (parameters.Count < 2) continue;
            if (stored.SequenceEqual(parameters)) inOrder++; else if (stored.Order().SequenceEqual(parameters.Order())) reordered++;
        }
        Assert.True(inOrder > 20 && reordered > 20, $"in order {inOrder}, reordered {reordered}");
        // Two defaults in a row (after one default every parameter has one).
        Assert.Matches(@"def \w+\([^)]*\w+=[^,)]+, \w+=[^,)]+\):", all);
        // Literals written one element a line, closed on a line of their own.
        Assert.Matches(@"= \{\n +[^\n]+: [^\n]+,\n(?: +[^\n]+\n)*? *\}\n", all);
        Assert.Matches(@"= \[\n +[^\n]+,\n(?: +[^\n]+\n)*? *\]\n", all);
        // A file opened without `with`: assigned, read and closed.
        Assert.Matches(@"\n *(\w+) = open\([^)]*\)\n.*\n *\1\.close\(\)\n", all);
    }

    [Fact]
    public void Programs_are_valid_python()
    {
        using var dir = new TempDir();
        var programs = Programs(5, 300);
        for (int i = 0; i < programs.Count; i++) dir.Write($"p{i:D3}.py", programs[i]);
        // python3 compiles every file; a syntax error names the file.
        var start = new ProcessStartInfo("python3", ["-c",
            "import sys, glob\nbad = []\nfor f in sorted(glob.glob(sys.argv[1] + '/*.py')):\n    try: compile(open(f).read(), f, 'exec')\n    except SyntaxError as e: bad.append(f'{f}: {e}')\nprint('\\n'.join(bad))\nsys.exit(1 if bad else 0)",
            dir.Path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output);
    }

    [Fact]
    public void Word_pools_share_nothing_with_the_task_generators()
    {
        // Task prompts use names and words the generator never writes, so a model that solves a
        // task on them has learned the idiom, not our templates.
        var taskWords = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in typeof(PythonPools).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            foreach (string word in Words(field.GetValue(null))) taskWords.Add(word);
        var ours = typeof(SyntheticPools).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .SelectMany(f => Words(f.GetValue(null)).Select(w => (f.Name, w))).ToList();
        Assert.True(taskWords.Count > 300, "the task pools were read");
        Assert.True(ours.Count > 300, "the synthetic pools were read");
        var shared = ours.Where(o => taskWords.Contains(o.w)).Select(o => $"{o.Name}: {o.w}").ToList();
        Assert.True(shared.Count == 0, "shared words: " + string.Join(", ", shared));

        static IEnumerable<string> Words(object? pool) => pool switch
        {
            string[] words => words,
            (string One, string Many)[] pairs => pairs.SelectMany(p => new[] { p.One, p.Many }),
            _ => [],
        };
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void No_short_task_prompt_occurs_in_the_synthetic_text()
    {
        string all = string.Join("\n", Programs(7, 2000));
        foreach (ContrastTask task in TaskRegistry.Paper)
            foreach (ContrastPair pair in task.Pairs(TaskSplit.Test, 20, seed: 0))
            {
                // The cue line of each prompt (its last line) never appears verbatim.
                string lastLine = pair.Positive[(pair.Positive.LastIndexOf('\n') + 1)..].Trim();
                if (lastLine.Length >= 12) Assert.DoesNotContain(lastLine, all);
            }
    }

    [Fact]
    public void Programs_stop_at_the_requested_size()
    {
        var programs = SyntheticPython.Programs(9, 20_000).ToList();
        long bytes = programs.Sum(p => (long)Encoding.UTF8.GetByteCount(p));
        Assert.InRange(bytes, 20_000, 20_000 + programs.Max(p => Encoding.UTF8.GetByteCount(p)));
    }
}

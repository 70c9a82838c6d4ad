using System.Text.RegularExpressions;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Cli;

/// <summary>Properties every command has, checked over the whole command tree as the CLI reports it.</summary>
public sealed partial class CommandTreeTests
{
    /// <summary>Every leaf command path (`train`, `corpus build`, ...), found by walking `--help` from the root.</summary>
    static List<string[]> Commands()
    {
        var leaves = new List<string[]>();
        var pending = new Queue<string[]>([[]]);
        while (pending.Count > 0)
        {
            string[] path = pending.Dequeue();
            var help = CliRunner.Run([.. path, "--help"]);
            Assert.True(help.ExitCode == 0, $"circuits {string.Join(' ', path)} --help: {help.Stderr}");
            var children = Children(help.Stdout);
            if (children.Count == 0) leaves.Add(path);
            foreach (string child in children) pending.Enqueue([.. path, child]);
        }
        return leaves;
    }

    static List<string> Children(string help)
    {
        int at = help.IndexOf("COMMANDS:", StringComparison.Ordinal);
        if (at < 0) return [];
        return help[at..].Split('\n').Skip(1).Select(l => CommandName().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
    }

    [GeneratedRegex(@"^    ([a-z][a-z-]*)\b")]
    private static partial Regex CommandName();

    [Fact]
    [Trait("Category", "Slow")]
    public void Every_command_renders_its_help_without_a_crash()
    {
        var commands = Commands();
        Assert.True(commands.Count >= 20, $"found {commands.Count} commands");
        Assert.Contains(commands, c => string.Join(' ', c) == "train");
        Assert.Contains(commands, c => string.Join(' ', c) == "tasks mine");
        foreach (string[] command in commands)
        {
            // -h as well as --help; the walk above already ran --help on each.
            var help = CliRunner.Run([.. command, "-h"]);
            string name = string.Join(' ', command);
            Assert.True(help.ExitCode == 0 && help.Stdout.Contains("USAGE:"), $"circuits {name} -h: {help.Stderr}");
            Assert.DoesNotContain("Exception", help.Stderr);
            // The behaviour tests of output paths and JSON output list the commands they cover; a new command must join them.
            Assert.True(!help.Stdout.Contains("--out ") || Circuits.OutputPathCliTests.Covered.Contains(name), $"{name} has --out but no unwritable-path test");
            Assert.True(!help.Stdout.Contains("--json") || Circuits.JsonOutputCliTests.Covered.Contains(name), $"{name} has --json but no parse test");
            Assert.True(Circuits.InterruptCliTests.Long.ContainsKey(name) || Circuits.InterruptCliTests.Short.ContainsKey(name),
                $"{name} is neither a long command with an interrupt test nor a short one");
        }
    }

    [Fact]
    public void A_mistyped_option_is_an_error_not_ignored()
    {
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "list", "--frob"), "Unknown option 'frob'");
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", "nowhere", "--tokns", "100"), "Unknown option 'tokns'");
    }
}

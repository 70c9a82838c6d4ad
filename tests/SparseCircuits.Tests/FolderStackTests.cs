using SparseCircuits.Tests.Support;
using System.Text.RegularExpressions;

namespace SparseCircuits.Tests;

/// <summary>The library's folders form a strict stack (docs: README "Layout"): a folder uses only folders below it.</summary>
public sealed partial class FolderStackTests
{
    /// <summary>Bottom to top; folders on one line share a level and do not use each other.</summary>
    static readonly string[][] Stack =
    [
        ["Core"], ["Data", "Model"], ["Training", "Tasks"], ["Evaluation"], ["Official"], ["Circuits"], ["Bridges"], ["Reports"], ["Pipeline"], ["Sweeps"], ["Frontier"], ["Slurm"],
    ];

    [GeneratedRegex(@"\bSparseCircuits\.(\w+)\b")]
    private static partial Regex Reference();

    [Fact]
    public void Every_folder_uses_only_the_folders_below_it()
    {
        string library = RepoPaths.Source("SparseCircuits");
        var level = Stack.SelectMany((names, i) => names.Select(n => (n, i))).ToDictionary(x => x.n, x => x.i);
        var violations = new List<string>();
        int files = 0;
        foreach (string file in Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(library, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal)) continue;
            string folder = relative.Split(Path.DirectorySeparatorChar)[0];
            Assert.True(level.ContainsKey(folder), $"{relative} is in a folder outside the stack ({folder})");
            files++;
            foreach (Match m in Reference().Matches(File.ReadAllText(file)))
            {
                string used = m.Groups[1].Value;
                if (used == folder || !level.ContainsKey(used) && used != "Cli") continue;
                if (used == "Cli" || level[used] >= level[folder]) violations.Add($"{relative} uses {used}");
            }
        }
        Assert.True(files > 100, $"read {files} files");
        Assert.True(violations.Count == 0, string.Join("\n", violations.Distinct()));
    }
}

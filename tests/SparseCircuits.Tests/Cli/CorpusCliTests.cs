using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Cli;

/// <summary>Bad input to `circuits corpus build`: one clear error line, non-zero exit, no output left behind.</summary>
public sealed class CorpusCliTests
{
    [Fact]
    public void Missing_source_path()
    {
        using var dir = new TempDir();
        var result = CliRunner.Run("corpus", "build", "--source", dir["nope"], "--out", dir["out"]);
        CliRunner.AssertCleanError(result, "source not found");
        Assert.False(Directory.Exists(dir["out"]));
    }

    [Fact]
    public void Empty_directory_and_directory_without_py_files()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["empty"]);
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", dir["empty"], "--out", dir["out"]), "no .py files");
        dir.Write("text/readme.md", "# hi");
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", dir["text"], "--out", dir["out"]), "no .py files");
        Assert.False(Directory.Exists(dir["out"]));
        Assert.Empty(Directory.GetDirectories(dir.Path, ".out.partial*"));
    }

    [Fact]
    public void Only_unusable_files()
    {
        using var dir = new TempDir();
        dir.WriteBytes("src/bin.py", [0x00, 0x01, 0x02]);
        dir.WriteBytes("src/latin1.py", [0xE9]);
        var result = CliRunner.Run("corpus", "build", "--source", dir["src"], "--out", dir["out"]);
        CliRunner.AssertCleanError(result, "none of the 2 .py files is usable");
        Assert.False(Directory.Exists(dir["out"]));
    }

    [Fact]
    public void Binary_or_non_utf8_file_given_directly()
    {
        using var dir = new TempDir();
        string latin1 = dir.WriteBytes("latin1.py", [0x61, 0xE9]);
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", latin1, "--out", dir["out"]), "not valid UTF-8");
        string binary = dir.WriteBytes("bin.py", [0x7f, 0x45, 0x00]);
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", binary, "--out", dir["out"]), "NUL");
        File.CreateSymbolicLink(dir["dangling.py"], dir["missing.py"]);
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", dir["dangling.py"], "--out", dir["out"]), "unreadable");
        Assert.False(Directory.Exists(dir["out"]));
    }

    [Fact]
    public void Output_directory_that_is_a_file()
    {
        using var dir = new TempDir();
        dir.Write("src/a.py", "a = 1\n");
        string file = dir.Write("out", "i am a file");
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", dir["src"], "--out", file), "is a file");
        Assert.Equal("i am a file", File.ReadAllText(file));
    }

    [Fact]
    public void Builds_a_corpus_and_prints_where()
    {
        using var dir = new TempDir();
        dir.Write("src/a.py", "a = 1\n");
        var result = CliRunner.Run("corpus", "build", "--source", dir["src"], "--out", dir["out"], "--quiet");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("corpus written to", result.Stdout);
        Assert.True(File.Exists(dir["out/manifest.json"]));
    }

    [Fact]
    public void Help_and_version()
    {
        var help = CliRunner.Run("corpus", "build", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--source", help.Stdout);
        var version = CliRunner.Run("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout.Trim());
    }
}

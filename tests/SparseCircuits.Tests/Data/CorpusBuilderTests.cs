using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Data;

public sealed class CorpusBuilderTests
{
    static CorpusManifest Build(string source, string outDir, double train = 0.98, double val = 0.01) =>
        CorpusBuilder.Build(new CorpusOptions { Sources = [source], TrainFraction = train, ValFraction = val }, outDir, NullProgress.Instance);

    static List<CorpusDocument> All(string corpus) =>
        Enum.GetValues<CorpusSplit>().SelectMany(s => CorpusFormat.ReadDocuments(corpus, s)).ToList();

    [Fact]
    public void Reads_py_files_recursively_and_normalises_line_endings()
    {
        using var dir = new TempDir();
        dir.Write("src/a.py", "x = 1\r\ny = 2\r\n");
        dir.Write("src/pkg/b.py", "\uFEFFdef f():\r    return 3\n");
        dir.Write("src/notes.txt", "not python");
        Build(dir["src"], dir["out"]);

        var docs = All(dir["out"]).OrderBy(d => d.Path, StringComparer.Ordinal).ToList();
        Assert.Equal(["a.py", "pkg/b.py"], docs.Select(d => d.Path));
        Assert.Equal("x = 1\ny = 2\n", docs[0].Text);
        Assert.Equal("def f():\n    return 3\n", docs[1].Text);
        Assert.Equal(Hashing.Sha256(Encoding.UTF8.GetBytes(docs[0].Text)), docs[0].Sha256);
    }

    [Fact]
    public void Skips_binary_non_utf8_oversized_and_unreadable_files_and_counts_why()
    {
        using var dir = new TempDir();
        dir.Write("src/good.py", "print('ok')\n");
        dir.WriteBytes("src/nul.py", [0x61, 0x00, 0x62]);
        dir.WriteBytes("src/latin1.py", [0x61, 0xE9, 0x0A]);
        dir.Write("src/big.py", new string('#', 5000));
        File.CreateSymbolicLink(dir["src/dangling.py"], dir["src/missing-target.py"]); // unreadable even as root
        var manifest = CorpusBuilder.Build(new CorpusOptions { Sources = [dir["src"]], MaxFileBytes = 4096 }, dir["out"], NullProgress.Instance);

        Assert.Equal(5, manifest.FilesFound);
        Assert.Equal(1, manifest.FilesKept);
        Assert.Equal(1, manifest.Skipped[CorpusBuilder.SkipReason.NulBytes]);
        Assert.Equal(1, manifest.Skipped[CorpusBuilder.SkipReason.NotUtf8]);
        Assert.Equal(1, manifest.Skipped[CorpusBuilder.SkipReason.TooLarge]);
        Assert.Equal(1, manifest.Skipped[CorpusBuilder.SkipReason.Unreadable]);
    }

    [Fact]
    public void Removes_exact_duplicates_after_line_ending_normalisation()
    {
        using var dir = new TempDir();
        dir.Write("src/a.py", "x = 1\n");
        dir.Write("src/b.py", "x = 1\r\n");
        dir.Write("src/c.py", "x = 2\n");
        var manifest = Build(dir["src"], dir["out"]);
        Assert.Equal(1, manifest.DuplicatesRemoved);
        Assert.Equal(["a.py", "c.py"], All(dir["out"]).Select(d => d.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Same_input_gives_byte_identical_output()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 60; i++) dir.Write($"src/m{i % 7}/f{i}.py", $"value_{i} = {i * i}\n");
        Build(dir["src"], dir["one"], 0.6, 0.2);
        Build(dir["src"], dir["two"], 0.6, 0.2);
        foreach (string file in Directory.GetFiles(dir["one"]).Select(Path.GetFileName)!)
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir["one"], file!)), File.ReadAllBytes(Path.Combine(dir["two"], file!)));
    }

    [Fact]
    public void Adding_files_never_moves_old_files_between_splits()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 80; i++) dir.Write($"src/f{i}.py", $"a = {i}\n");
        Build(dir["src"], dir["before"], 0.5, 0.25);
        for (int i = 80; i < 200; i++) dir.Write($"src/new/g{i}.py", $"b = {i}\n");
        Build(dir["src"], dir["after"], 0.5, 0.25);

        foreach (var split in Enum.GetValues<CorpusSplit>())
        {
            var before = CorpusFormat.ReadDocuments(dir["before"], split).Select(d => d.Path).ToHashSet();
            var after = CorpusFormat.ReadDocuments(dir["after"], split).Select(d => d.Path).ToHashSet();
            Assert.Subset(after, before);
            Assert.NotEmpty(before); // with 80 files every split gets some (shares 50/25/25)
        }
    }

    [Fact]
    public void Split_shares_follow_the_requested_fractions()
    {
        int train = 0, val = 0, n = 20_000;
        for (int i = 0; i < n; i++)
        {
            switch (CorpusSplitter.Assign($"pkg/module_{i}.py", 0.9, 0.05))
            {
                case CorpusSplit.Train: train++; break;
                case CorpusSplit.Val: val++; break;
            }
        }
        Assert.InRange(train / (double)n, 0.89, 0.91);
        Assert.InRange(val / (double)n, 0.045, 0.055);
    }

    [Fact]
    public void Rebuilding_replaces_an_earlier_corpus_but_never_a_foreign_directory()
    {
        using var dir = new TempDir();
        dir.Write("src/a.py", "a = 1\n");
        Build(dir["src"], dir["out"]);
        dir.Write("src/b.py", "b = 2\n");
        Assert.Equal(2, Build(dir["src"], dir["out"]).FilesKept);

        dir.Write("foreign/keep.txt", "mine");
        var error = Assert.Throws<SparseCircuitsException>(() => Build(dir["src"], dir["foreign"]));
        Assert.Contains("not empty", error.Message);
        Assert.Equal(["keep.txt"], Directory.GetFiles(dir["foreign"]).Select(Path.GetFileName));
    }

    [Fact]
    public void Parses_split_shares()
    {
        Assert.Equal((0.98, 0.01), CorpusOptions.ParseSplit("98/1/1"));
        Assert.Equal((0.5, 0.25), CorpusOptions.ParseSplit("2/1/1"));
        Assert.Throws<SparseCircuitsException>(() => CorpusOptions.ParseSplit("98/2"));
        Assert.Throws<SparseCircuitsException>(() => CorpusOptions.ParseSplit("0/1/1"));
        Assert.Throws<SparseCircuitsException>(() => CorpusOptions.ParseSplit("a/b/c"));
    }
}

public sealed class SyntheticCorpusTests
{
    [Fact]
    public void Synthetic_programs_join_the_real_files_split_by_path_and_recorded_in_the_manifest()
    {
        using var dir = new TempDir();
        dir.Write("src/a.py", "x = 1\n");
        var options = new CorpusOptions { Sources = [dir["src"]], SyntheticBytes = 200_000, SyntheticSeed = 3, TrainFraction = 0.8, ValFraction = 0.1 };
        var manifest = CorpusBuilder.Build(options, dir["out"], NullProgress.Instance);

        var docs = Enum.GetValues<CorpusSplit>().SelectMany(s => CorpusFormat.ReadDocuments(dir["out"], s).Select(d => (s, d))).ToList();
        var synthetic = docs.Where(x => x.d.Path.StartsWith(CorpusBuilder.SyntheticPathPrefix, StringComparison.Ordinal)).ToList();
        Assert.Single(docs, x => x.d.Path == "a.py");
        Assert.Equal(manifest.Synthetic!.Documents, synthetic.Count);
        Assert.Equal(3UL, manifest.Synthetic.Seed);
        Assert.InRange(synthetic.Sum(x => (long)Encoding.UTF8.GetByteCount(x.d.Text)), 190_000, 220_000);
        Assert.All(synthetic, x => Assert.Equal(CorpusSplitter.Assign(x.d.Path, 0.8, 0.1), x.s));
        Assert.True(synthetic.Count(x => x.s == CorpusSplit.Val) > 5, "the synthetic part has its own val documents");

        // Deterministic: the same options give byte-identical split files.
        CorpusBuilder.Build(options, dir["again"], NullProgress.Instance);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir["out"], "train.jsonl")), File.ReadAllBytes(Path.Combine(dir["again"], "train.jsonl")));
    }

    [Fact]
    public void A_synthetic_only_corpus_needs_no_real_files()
    {
        using var dir = new TempDir();
        var manifest = CorpusBuilder.Build(new CorpusOptions { SyntheticBytes = 50_000, SyntheticOnly = true }, dir["out"], NullProgress.Instance);
        Assert.Empty(manifest.Sources);
        Assert.Equal(0, manifest.FilesFound);
        Assert.True(manifest.Synthetic!.Documents > 10);
    }

    [Theory]
    [InlineData("50MB", 50_000_000L)]
    [InlineData("512kB", 512_000L)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("1234", 1234L)]
    [InlineData("0", 0L)]
    public void Sizes_parse_with_decimal_units(string text, long bytes) => Assert.Equal(bytes, CorpusOptions.ParseSize(text));

    [Theory]
    [InlineData("50XB")]
    [InlineData("-1MB")]
    [InlineData("MB")]
    [InlineData("")]
    public void Bad_sizes_are_user_errors(string text) =>
        Assert.Contains("size must look like", Assert.Throws<SparseCircuitsException>(() => CorpusOptions.ParseSize(text)).Message);

    [Fact]
    public void Bad_synthetic_options_are_user_errors()
    {
        Assert.Throws<SparseCircuitsException>(() => new CorpusOptions { SyntheticBytes = -1 }.Validate());
        Assert.Throws<SparseCircuitsException>(() => new CorpusOptions { SyntheticOnly = true }.Validate());
        Assert.Throws<SparseCircuitsException>(() => new CorpusOptions { SyntheticOnly = true, SyntheticBytes = 10, Sources = ["x"] }.Validate());
    }
}

using System.Text.Json;
using SparseCircuits.Cli;
using SparseCircuits.Data;
using Xunit;

namespace SparseCircuits.Tests.Data;

/// <summary>`circuits tokenizer ...` end to end: exit codes and what lands on disk.</summary>
public sealed class TokenizerCommandTests
{
    static string WriteCorpus(TempDirectory dir)
    {
        string corpus = dir["corpus"];
        Directory.CreateDirectory(corpus);
        File.WriteAllText(Path.Combine(corpus, CorpusFormat.ManifestFile), "{\"format\": 1}\n");
        var lines = TokenizerTestData.PythonDocuments.Select((text, i) =>
            JsonSerializer.Serialize(new CorpusDocument($"doc{i}.py", "0", text), Core.Json.Options).Replace("\n", ""));
        File.WriteAllLines(Path.Combine(corpus, CorpusFormat.SplitFile(CorpusSplit.Train)), lines);
        return corpus;
    }

    [Fact]
    public void Train_then_encode_and_decode()
    {
        using var dir = new TempDirectory();
        string corpus = WriteCorpus(dir);

        Assert.Equal(0, CircuitsApp.Run(["tokenizer", "train", "--corpus", corpus, "--vocab", "300", "--quiet"]));

        // Default output: `tokenizer` beside the corpus.
        string outDir = dir["tokenizer"];
        Assert.True(File.Exists(Path.Combine(outDir, TokenizerFiles.RanksFile)));
        Assert.True(File.Exists(Path.Combine(outDir, TokenizerFiles.MetadataFile)));
        var manifest = Core.Json.ReadFile<TokenizerManifest>(Path.Combine(outDir, TokenizerTraining.ManifestFile));
        Assert.Equal(300, manifest.VocabSize);
        Assert.Equal(TokenizerTestData.PythonDocuments.Length, manifest.Training.Documents);
        Assert.Equal(Core.Hashing.Sha256File(Path.Combine(corpus, CorpusFormat.ManifestFile)), manifest.CorpusManifestSha256);
        Assert.Equal(CodeTokenizer.Load(outDir).Hash, manifest.TokenizerHash);
        Assert.Equal(["manifest.json", "tokenizer.meta.json", "tokenizer.tiktoken"],
            Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName).Order());

        Assert.Equal(0, CircuitsApp.Run(["tokenizer", "encode", "--tokenizer", outDir, "def f(self):"]));
        Assert.Equal(0, CircuitsApp.Run(["tokenizer", "decode", "--tokenizer", outDir, "100", "101,102", "299"]));
        // Training again replaces the earlier tokenizer in place.
        Assert.Equal(0, CircuitsApp.Run(["tokenizer", "train", "--corpus", corpus, "--vocab", "280", "--out", outDir, "--quiet"]));
        Assert.Equal(280, CodeTokenizer.Load(outDir).VocabSize);
    }

    [Theory]
    [InlineData("256")]
    [InlineData("65536")]
    [InlineData("-1")]
    public void Train_with_a_bad_vocab_fails_and_writes_nothing(string vocab)
    {
        using var dir = new TempDirectory();
        string corpus = WriteCorpus(dir);

        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "train", "--corpus", corpus, "--vocab", vocab, "--out", dir["out"], "--quiet"]));
        Assert.False(Directory.Exists(dir["out"]));
        Assert.False(Directory.Exists(dir["tokenizer"]));
    }

    [Fact]
    public void Train_without_a_corpus_fails_and_writes_nothing()
    {
        using var dir = new TempDirectory();

        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "train", "--corpus", dir["missing"], "--out", dir["out"], "--quiet"]));
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "train", "--out", dir["out"], "--quiet"]));
        Directory.CreateDirectory(dir["empty"]);
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "train", "--corpus", dir["empty"], "--out", dir["out"], "--quiet"]));
        Assert.Equal(["empty"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Train_on_a_corrupt_corpus_fails_and_leaves_no_partial_output()
    {
        using var dir = new TempDirectory();
        string corpus = WriteCorpus(dir);
        File.AppendAllText(Path.Combine(corpus, CorpusFormat.SplitFile(CorpusSplit.Train)), "{not json\n");

        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "train", "--corpus", corpus, "--out", dir["out"], "--quiet"]));
        Assert.Equal(["corpus"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Encode_and_decode_need_an_existing_tokenizer_and_valid_ids()
    {
        using var dir = new TempDirectory();
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "encode", "--tokenizer", dir["missing"], "hello"]));
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "decode", "--tokenizer", dir["missing"], "1"]));
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "encode", "hello"]));

        TokenizerFiles.Save(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300), dir["tok"]);
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "decode", "--tokenizer", dir["tok"], "300"]));
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "decode", "--tokenizer", dir["tok"], "x"]));
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "encode", "--tokenizer", dir["tok"]]));
        Assert.NotEqual(0, CircuitsApp.Run(["tokenizer", "encode", "--tokenizer", dir["tok"], "--file", dir["missing.py"]]));
        Assert.Equal(0, CircuitsApp.Run(["tokenizer", "decode", "--tokenizer", dir["tok"], "299"]));
    }
}

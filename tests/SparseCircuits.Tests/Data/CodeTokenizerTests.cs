using System.Text;
using CsCheck;
using SparseCircuits.Core;
using SparseCircuits.Data;
using Xunit;

namespace SparseCircuits.Tests.Data;

public sealed class CodeTokenizerTests
{
    /// <summary>
    /// Strings built from pieces that stress the pre-tokenizer and UTF-8: code, all whitespace
    /// kinds, CRLF, the special token's text, combining marks, astral characters, and any Unicode
    /// scalar value (never an unpaired surrogate).
    /// </summary>
    internal static readonly Gen<string> AnyText =
        Gen.Frequency(
            (3, Gen.OneOfConst("def ", "    ", "\n", "\r\n", "\r", "\t", "self.", "<|endoftext|>", "'", "\"\"\"", "123456",
                "  ", "# comment", "é", "e\u0301", "😀", "👩‍💻", "中文", "\u00a0", "\u2028", "\u0085", "\v", "\f", "\0", "𝐀bc", " \n ")),
            (3, Gen.Int[0, 127].Select(c => ((char)c).ToString())),
            (2, Gen.Int[0, 0x10FFFF].Where(c => c is < 0xD800 or > 0xDFFF).Select(char.ConvertFromUtf32)))
        .Array[0, 40]
        .Select(pieces => string.Concat(pieces));

    static void AssertLossless(CodeTokenizer tokenizer, string text)
    {
        int[] ids = tokenizer.Encode(text);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
        Assert.DoesNotContain(tokenizer.EndOfTextId, ids);
        Assert.Equal(Encoding.UTF8.GetBytes(text), tokenizer.DecodeBytes(ids));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void Round_trip_is_exact_on_arbitrary_text_with_a_trained_tokenizer()
    {
        var tokenizer = TokenizerTestData.Trained;
        Assert.True(tokenizer.VocabSize > 300, "training should have learned real merges");
        AnyText.Sample(text => AssertLossless(tokenizer, text), iter: 500, threads: 1);
    }

    [Fact]
    public void Round_trip_is_exact_on_arbitrary_text_with_bytes_only()
    {
        var tokenizer = CodeTokenizer.FromModel(BpeTrainer.Train(["x"], BpeTrainer.MinVocabSize));
        AnyText.Sample(text => AssertLossless(tokenizer, text), iter: 200, threads: 1);
    }

    [Fact]
    public void Round_trip_is_exact_on_the_training_documents_and_uses_merges()
    {
        var tokenizer = TokenizerTestData.Trained;
        foreach (string doc in TokenizerTestData.PythonDocuments) AssertLossless(tokenizer, doc);
        AssertLossless(tokenizer, "");
        long tokens = TokenizerTestData.PythonDocuments.Sum(d => (long)tokenizer.Encode(d).Length);
        long bytes = TokenizerTestData.PythonDocuments.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        Assert.True(tokens * 2 < bytes, $"{tokens} tokens for {bytes} bytes");
    }

    [Fact]
    public void End_of_text_is_the_last_id_and_never_comes_from_text()
    {
        var tokenizer = CodeTokenizer.FromModel(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300));

        Assert.Equal(300, tokenizer.VocabSize);
        Assert.Equal(299, tokenizer.EndOfTextId);
        Assert.Equal("<|endoftext|>", tokenizer.Decode([tokenizer.EndOfTextId]));
        Assert.Equal("<|endoftext|>", tokenizer.TokenText(tokenizer.EndOfTextId));
        foreach (string text in new[] { "<|endoftext|>", "a<|endoftext|>b", " <|endoftext|>\n" })
            AssertLossless(tokenizer, text);
        int[] joined = [.. tokenizer.Encode("a = 1"), tokenizer.EndOfTextId, .. tokenizer.Encode("b")];
        Assert.Equal("a = 1<|endoftext|>b", tokenizer.Decode(joined));
    }

    [Fact]
    public void Rejects_unpaired_surrogates()
    {
        var tokenizer = TokenizerTestData.Trained;
        foreach (string text in new[] { "a\uD800b", "\uDC00", "x\uD83D" })
        {
            var e = Assert.Throws<SparseCircuitsException>(() => tokenizer.Encode(text));
            Assert.Contains("surrogate", e.Message);
        }
        Assert.Throws<SparseCircuitsException>(() => tokenizer.EncodeMany(["fine", "bad\uD800"]));
    }

    [Fact]
    public void Encode_many_matches_encode_in_order()
    {
        var tokenizer = TokenizerTestData.Trained;
        var texts = Enumerable.Range(0, 300).Select(i => TokenizerTestData.PythonDocuments[i % 7] + i).ToArray();

        int[][] many = tokenizer.EncodeMany(texts);

        Assert.Equal(texts.Length, many.Length);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(tokenizer.Encode(texts[i]), many[i]);
    }

    [Fact]
    public void Decode_bytes_keeps_partial_characters_that_decode_replaces()
    {
        var tokenizer = TokenizerTestData.Trained;
        int[] ids = tokenizer.Encode("🦀");
        Assert.True(ids.Length > 1, "an unseen emoji is spelled in bytes");

        Assert.Equal(Encoding.UTF8.GetBytes("🦀")[..1], tokenizer.DecodeBytes(ids[..1]));
        Assert.Equal("\uFFFD", tokenizer.Decode(ids[..1]));
        Assert.Equal(@"\xf0", tokenizer.TokenText(ids[0]));
    }

    [Fact]
    public void Token_text_escapes_what_would_not_show()
    {
        var tokenizer = CodeTokenizer.FromModel(BpeTrainer.Train(["x"], BpeTrainer.MinVocabSize));
        Assert.Equal(@"\n", tokenizer.TokenText('\n'));
        Assert.Equal(@"\t", tokenizer.TokenText('\t'));
        Assert.Equal(@"\r", tokenizer.TokenText('\r'));
        Assert.Equal(@"\\", tokenizer.TokenText('\\'));
        Assert.Equal(@"\u{0}", tokenizer.TokenText(0));
        Assert.Equal(" ", tokenizer.TokenText(' '));
        Assert.Equal("a", tokenizer.TokenText('a'));
    }

    [Fact]
    public void Out_of_range_ids_are_user_errors()
    {
        var tokenizer = TokenizerTestData.Trained;
        Assert.Throws<SparseCircuitsException>(() => tokenizer.Decode([tokenizer.VocabSize]));
        Assert.Throws<SparseCircuitsException>(() => tokenizer.DecodeBytes([-1]));
        Assert.Throws<SparseCircuitsException>(() => tokenizer.TokenText(70000));
    }

    [Fact]
    public void Saved_tokenizer_loads_from_its_directory_or_either_file()
    {
        using var dir = new TempDirectory();
        var model = BpeTrainer.Train(TokenizerTestData.PythonDocuments, 400);
        var fresh = CodeTokenizer.FromModel(model);
        TokenizerFiles.Save(model, dir.Path);

        foreach (string path in new[] { dir.Path, dir[TokenizerFiles.RanksFile], dir[TokenizerFiles.MetadataFile] })
        {
            var loaded = CodeTokenizer.Load(path);
            Assert.Equal(CodeTokenizer.TiktokenFormat, loaded.Format);
            Assert.Equal(fresh.VocabSize, loaded.VocabSize);
            Assert.Equal(fresh.EndOfTextId, loaded.EndOfTextId);
            Assert.Equal(fresh.Hash, loaded.Hash);
            foreach (string doc in TokenizerTestData.PythonDocuments) Assert.Equal(fresh.Encode(doc), loaded.Encode(doc));
        }
    }

    [Fact]
    public void Ranks_file_is_in_tiktoken_format()
    {
        using var dir = new TempDirectory();
        var model = BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300);
        var meta = TokenizerFiles.Save(model, dir.Path);

        string[] lines = File.ReadAllLines(dir[TokenizerFiles.RanksFile]);
        Assert.Equal(299, lines.Length);
        Assert.Equal("AA== 0", lines[0]);
        Assert.Equal("IA== 32", lines[32]);
        for (int rank = 0; rank < lines.Length; rank++)
            Assert.Equal($"{Convert.ToBase64String(model.Tokens[rank])} {rank}", lines[rank]);

        Assert.Equal(1, meta.Format);
        Assert.Equal(300, meta.VocabSize);
        Assert.Equal(PreTokenizerPattern.Paper, meta.Pattern);
        Assert.Equal(299, meta.SpecialTokens["<|endoftext|>"]);
        Assert.Equal(Hashing.Sha256File(dir[TokenizerFiles.RanksFile]), meta.RanksSha256);
        string json = File.ReadAllText(dir[TokenizerFiles.MetadataFile]);
        Assert.Contains("\"format\": 1", json);
        Assert.Contains("\"vocab_size\": 300", json);
    }

    [Fact]
    public void Hash_changes_with_the_vocabulary()
    {
        var small = CodeTokenizer.FromModel(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300));
        var large = CodeTokenizer.FromModel(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 301));
        Assert.Matches("^[0-9a-f]{64}$", small.Hash);
        Assert.NotEqual(small.Hash, large.Hash);
        Assert.Equal(small.Hash, CodeTokenizer.FromModel(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300)).Hash);
    }

    public static TheoryData<string, Action<string>, string> Corruptions => new()
    {
        { "missing ranks file", dir => File.Delete(Path.Combine(dir, TokenizerFiles.RanksFile)), "file not found" },
        { "edited ranks file", dir => File.AppendAllText(Path.Combine(dir, TokenizerFiles.RanksFile), "YWJj 299\n"), "SHA-256" },
        { "truncated metadata", dir => File.WriteAllText(Path.Combine(dir, TokenizerFiles.MetadataFile), "{\"format\": 1,"), "not valid JSON" },
        { "future format", dir => Rewrite(dir, "\"format\": 1", "\"format\": 2"), "format 2" },
        { "wrong vocab size", dir => Rewrite(dir, "\"vocab_size\": 300", "\"vocab_size\": 301"), "vocab_size" },
        { "no end of text", dir => Rewrite(dir, "endoftext", "end"), "endoftext" },
    };

    static void Rewrite(string dir, string from, string to)
    {
        string path = Path.Combine(dir, TokenizerFiles.MetadataFile);
        string text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
    }

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupt_files_are_one_line_errors_naming_the_file(string what, Action<string> corrupt, string expected)
    {
        using var dir = new TempDirectory();
        TokenizerFiles.Save(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300), dir.Path);
        corrupt(dir.Path);

        var e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(dir.Path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void A_pattern_that_skips_characters_is_an_error_not_silent_loss()
    {
        using var dir = new TempDirectory();
        TokenizerFiles.Save(BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300), dir.Path);
        string metaPath = dir[TokenizerFiles.MetadataFile];
        AtomicFile.WriteJson(metaPath, Json.ReadFile<TokenizerMetadata>(metaPath) with { Pattern = @"\p{L}+" });
        var tokenizer = CodeTokenizer.Load(dir.Path);

        Assert.Equal(tokenizer.Encode("ab"), tokenizer.Encode("ab"));
        Assert.Contains("dropped", Assert.Throws<SparseCircuitsException>(() => tokenizer.Encode("a b")).Message);
    }

    [Fact]
    public void Ranks_without_every_byte_are_rejected()
    {
        byte[] ranks = TokenizerFiles.RanksBytes(Enumerable.Range(1, 255).Select(b => new[] { (byte)b }).ToArray());
        var e = Assert.Throws<SparseCircuitsException>(() => TokenizerFiles.ParseRanks(ranks, "x.tiktoken"));
        Assert.Contains("0x00", e.Message);
    }

    [Fact]
    public void Missing_tokenizer_is_a_user_error()
    {
        using var dir = new TempDirectory();
        Assert.Contains("not found", Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir["nope"])).Message);
        Assert.Contains("no tokenizer", Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path)).Message);
    }
}

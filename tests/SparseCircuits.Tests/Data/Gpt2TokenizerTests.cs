using System.Text;
using System.Text.Json;
using CsCheck;
using SparseCircuits.Core;
using SparseCircuits.Data;
using Xunit;

namespace SparseCircuits.Tests.Data;

/// <summary>Loading GPT-2 format BPE files (vocab.json + merges.txt), as the paper's tinypython_2k ships.</summary>
public sealed class Gpt2TokenizerTests
{
    // GPT-2 orders the 256 byte tokens printable-first (the order of bytes_to_unicode).
    static readonly byte[] ByteOrder = Enumerable.Range(0, 256)
        .OrderBy(b => ByteLevelAlphabet.Encode((byte)b) >= 256 ? 1 : 0).ThenBy(b => b).Select(b => (byte)b).ToArray();

    static readonly string[] Merges = ["Ġ d", "d e", "Ġd e", "Ġde f"];

    /// <summary>Writes a tiny byte-level BPE: 256 bytes, 4 merges (" def" is one token), then the special token.</summary>
    static void WriteTinyGpt2(string dir, string vocabName = "vocab.json", string mergesName = "merges.txt",
        bool withEndOfText = true, string mergesHeader = "#version: 0.2\n")
    {
        var vocab = new Dictionary<string, int>();
        foreach (byte b in ByteOrder) vocab[ByteLevelAlphabet.Encode(b).ToString()] = vocab.Count;
        foreach (string merge in Merges) vocab[merge.Replace(" ", "")] = vocab.Count;
        if (withEndOfText) vocab["<|endoftext|>"] = vocab.Count;
        File.WriteAllText(Path.Combine(dir, vocabName), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(dir, mergesName), mergesHeader + string.Join("\n", Merges) + "\n");
    }

    static int IdOf(byte b) => Array.IndexOf(ByteOrder, b);

    [Fact]
    public void Encodes_with_the_merges_and_the_file_ids()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path);
        var tokenizer = CodeTokenizer.Load(dir.Path);

        Assert.Equal(CodeTokenizer.Gpt2Format, tokenizer.Format);
        Assert.Equal(261, tokenizer.VocabSize);
        Assert.Equal(260, tokenizer.EndOfTextId);
        Assert.Equal([259], tokenizer.Encode(" def"));
        Assert.Equal([257, IdOf((byte)'f')], tokenizer.Encode("def"));
        Assert.Equal([IdOf((byte)'x'), 259, 256], tokenizer.Encode("x def d"));
        Assert.Equal(" def", tokenizer.TokenText(259));
        Assert.Equal("<|endoftext|>", tokenizer.Decode([260]));
    }

    [Fact]
    public void Round_trip_is_exact_on_arbitrary_text()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path);
        var tokenizer = CodeTokenizer.Load(dir.Path);

        CodeTokenizerTests.AnyText.Sample(text =>
        {
            int[] ids = tokenizer.Encode(text);
            Assert.DoesNotContain(tokenizer.EndOfTextId, ids);
            Assert.Equal(Encoding.UTF8.GetBytes(text), tokenizer.DecodeBytes(ids));
            Assert.Equal(text, tokenizer.Decode(ids));
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Loads_from_either_file_and_from_data_gym_names()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path);
        Directory.CreateDirectory(dir["gym"]);
        WriteTinyGpt2(dir["gym"], "encoder.json", "vocab.bpe");
        var expected = CodeTokenizer.Load(dir.Path).Encode("def f(): return  def");

        foreach (string path in new[] { dir["vocab.json"], dir["merges.txt"], dir["gym"], Path.Combine(dir["gym"], "vocab.bpe") })
            Assert.Equal(expected, CodeTokenizer.Load(path).Encode("def f(): return  def"));
    }

    [Fact]
    public void Appends_end_of_text_when_the_vocabulary_lacks_it()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path, withEndOfText: false, mergesHeader: "");
        var tokenizer = CodeTokenizer.Load(dir.Path);

        Assert.Equal(261, tokenizer.VocabSize);
        Assert.Equal(260, tokenizer.EndOfTextId);
        Assert.Equal([259], tokenizer.Encode(" def"));
    }

    [Fact]
    public void Missing_partner_file_is_named()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path);
        File.Delete(dir["merges.txt"]);

        var e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains("vocab.json", e.Message);
        Assert.Contains("merges.txt", e.Message);
    }

    [Fact]
    public void Bad_files_are_one_line_errors_naming_the_file()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path);
        File.AppendAllText(dir["merges.txt"], "q z\n");
        var e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains(dir["merges.txt"] + ":6", e.Message);

        File.WriteAllText(dir["vocab.json"], "[1, 2]");
        e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains(dir["vocab.json"], e.Message);
        Assert.DoesNotContain('\n', e.Message);

        File.WriteAllText(dir["vocab.json"], "{\"a\": 0, \"b\": 1}");
        e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains("no token for byte", e.Message);
    }
}

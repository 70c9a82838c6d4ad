using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tests.Official;

namespace SparseCircuits.Tests.Data;

/// <summary>The release's tinypython_2k tokenizer, read from its data-gym files (encoder.json + vocab.bpe).</summary>
public sealed class DataGymTokenizerTests
{
    sealed record Golden(string Text, int[] Ids);

    static IReadOnlyList<Golden> GoldenLines() =>
        File.ReadLines(Path.Combine(ReleaseFixtures.Tokenizer, "golden.jsonl"))
            .Select(line => JsonSerializer.Deserialize<Golden>(line, Json.Options)!).ToList();

    [Fact]
    public void Every_golden_line_encodes_to_exactly_its_ids()
    {
        var tokenizer = CodeTokenizer.Load(ReleaseFixtures.Tokenizer);
        var golden = GoldenLines();
        Assert.Equal(220, golden.Count);

        var wrong = golden.Where(g => !tokenizer.Encode(g.Text).SequenceEqual(g.Ids))
            .Select(g => $"{JsonSerializer.Serialize(g.Text)}: got [{string.Join(", ", tokenizer.Encode(g.Text))}], expected [{string.Join(", ", g.Ids)}]")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {golden.Count} lines differ:\n" + string.Join("\n", wrong.Take(5)));
        Assert.All(golden, g => Assert.Equal(g.Text, tokenizer.Decode(g.Ids)));
    }

    [Fact]
    public void Has_the_release_vocabulary_with_end_of_text_at_2047()
    {
        var tokenizer = CodeTokenizer.Load(Path.Combine(ReleaseFixtures.Tokenizer, "vocab.bpe"));

        Assert.Equal(CodeTokenizer.DataGymFormat, tokenizer.Format);
        Assert.Equal(2048, tokenizer.VocabSize);
        Assert.Equal(2047, tokenizer.EndOfTextId);
        Assert.Equal("<|startoftext|>", tokenizer.TokenText(2046));
        // Ids 0..255 are the bytes in the alphabet's order: printable first, so '!' is 0 and ' ' is 220.
        Assert.Equal("!", tokenizer.TokenText(0));
        Assert.Equal([220], tokenizer.Encode(" "));
        // Text that spells the special token stays plain text.
        Assert.DoesNotContain(2047, tokenizer.Encode("x = '<|endoftext|>'"));
    }

    [Fact]
    public void Encoder_json_that_disagrees_with_vocab_bpe_is_one_line_naming_both_files()
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(ReleaseFixtures.Tokenizer, "vocab.bpe"), dir["vocab.bpe"]);
        var encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(ReleaseFixtures.Tokenizer, "encoder.json")))!;
        string a = encoder.First(kv => kv.Value == 300).Key, b = encoder.First(kv => kv.Value == 301).Key;
        (encoder[a], encoder[b]) = (301, 300);
        File.WriteAllText(dir["encoder.json"], JsonSerializer.Serialize(encoder));

        var e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains(dir["encoder.json"], e.Message);
        Assert.Contains(dir["vocab.bpe"], e.Message);
        Assert.Contains("rank 300", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        // A merge line removed: encoder.json now has a token the merges never make.
        var lines = File.ReadAllLines(Path.Combine(ReleaseFixtures.Tokenizer, "vocab.bpe")).ToList();
        lines.RemoveAt(lines.Count - 1);
        File.WriteAllText(dir["vocab.bpe"], string.Join("\n", lines) + "\n");
        File.Copy(Path.Combine(ReleaseFixtures.Tokenizer, "encoder.json"), dir["encoder.json"], overwrite: true);
        e = Assert.Throws<SparseCircuitsException>(() => CodeTokenizer.Load(dir.Path));
        Assert.Contains("id 2045", e.Message);
        Assert.Contains("never makes", e.Message);
    }
}

using SparseCircuits.Core;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Tasks;

/// <summary>Custom tasks as JSON lines: round trips, splits, and every kind of bad input.</summary>
public sealed class CustomTaskFileTests
{
    const string Valid = """{"positive": "x = [[1, 2", "negative": "x = [1, 2", "tok": "]]\n", "alt": "]\n"}""";

    [Fact]
    public void Export_then_load_gives_identical_pairs_and_encodings()
    {
        using var dir = new TempDir();
        var task = new SingleDoubleQuote();
        var stream = task.Stream(seed: 0).Take(50).ToList();
        string path = dir["quotes.jsonl"];
        CustomTaskFile.Write(path, stream);

        var read = CustomTaskFile.Read(path);
        Assert.Equal(stream.Select(p => p.Pair), read.Select(l => l.Text));
        Assert.Equal(stream.Select(p => p.Split), read.Select(l => l.Split));
        Assert.Equal(Enumerable.Range(1, 50), read.Select(l => l.Line));

        // The same TaskDataset either way.
        var builtIn = TaskDataset.FromTask(task, TaskTokenizer.Code, TaskSplit.Test, 1000, seed: 0);
        var custom = TaskDataset.FromFile(path, TaskTokenizer.Code, TaskSplit.Test);
        int n = stream.Count(p => p.Split == TaskSplit.Test);
        Assert.Equal(builtIn.Pairs.Take(n).Select(Key), custom.Pairs.Select(Key));
        Assert.Equal("quotes", custom.Name);
    }

    [Fact]
    public void Token_id_pairs_round_trip_and_are_used_as_written()
    {
        using var dir = new TempDir();
        var data = TaskDataset.FromTask(new ForWhile(), TaskTokenizer.Code, TaskSplit.Validation, 20);
        string path = dir["ids.jsonl"];
        CustomTaskFile.WriteIds(path, data.Pairs.Select(p => (p, TaskSplit.Validation)));
        var loaded = TaskDataset.FromFile(path, TaskTokenizer.Code, TaskSplit.Validation);
        Assert.Equal(data.Pairs.Select(Key), loaded.Pairs.Select(Key));
        Assert.Contains("\"positive_ids\":[", File.ReadAllLines(path)[0]);
        Assert.Contains("\"split\":\"val\"", File.ReadAllLines(path)[0]);
    }

    [Fact]
    public void Invalid_utf8_is_refused_naming_its_line_and_a_bom_is_accepted()
    {
        using var dir = new TempDir();
        byte[] good = System.Text.Encoding.UTF8.GetBytes(Valid + "\n");
        byte[] bad = System.Text.Encoding.UTF8.GetBytes(Valid.Replace("x = [1, 2", "x = [1, \u00e9")).ToArray();
        int at = Array.IndexOf(bad, (byte)0xC3);
        bad[at] = 0xFF; // an invalid lead byte where the é began
        string file = dir.WriteBytes("bad.jsonl", [.. good, .. bad]);
        var e = Assert.Throws<SparseCircuitsException>(() => CustomTaskFile.Read(file));
        Assert.Contains("bad.jsonl:2: not valid UTF-8", e.Message);

        string withBom = dir.WriteBytes("bom.jsonl", [0xEF, 0xBB, 0xBF, .. good]);
        Assert.Single(CustomTaskFile.Read(withBom));
    }

    [Fact]
    public void Lines_without_a_split_are_test_pairs()
    {
        using var dir = new TempDir();
        string path = dir.Write("t.jsonl", Valid + "\n\n" + Valid.Replace("}", ", \"split\": \"train\"}") + "\n");
        Assert.Single(TaskDataset.FromFile(path, TaskTokenizer.Code, TaskSplit.Test).Pairs);
        Assert.Single(TaskDataset.FromFile(path, TaskTokenizer.Code, TaskSplit.Train).Pairs);
        Assert.Equal(2, TaskDataset.FromFile(path, TaskTokenizer.Code, null).Pairs.Count);
        var none = TaskDataset.FromFile(path, TaskTokenizer.Code, TaskSplit.Validation);
        Assert.False(none.Available);
        Assert.Contains("no val pairs", none.UnavailableReason);
    }

    [Theory]
    [InlineData("""{"positive": "a", "negative": "b", "tok": "x"}""", "missing field 'alt'")]
    [InlineData("""{"positive": "a", "negative": "b", "tok": "x", "alt": "x"}""", "tok and alt are the same text")]
    [InlineData("""{"positive": "a", "negative": "a", "tok": "x", "alt": "y"}""", "positive and negative are the same prompt")]
    [InlineData("""{"positive": 3, "negative": "b", "tok": "x", "alt": "y"}""", "'positive' must be a string, got number")]
    [InlineData("""{"positive": "", "negative": "b", "tok": "x", "alt": "y"}""", "'positive' is empty")]
    [InlineData("""{"postive": "a", "negative": "b", "tok": "x", "alt": "y"}""", "unknown field 'postive'")]
    [InlineData("""{"positive": "a", "negative": "b", "tok": "x", "alt": "y", "split": "dev"}""", "'split' must be train, val or test (got 'dev')")]
    [InlineData("""{"positive": "a", "negative": "b", "tok": "x", "alt": "y", "tok_id": 3}""", "mixes text fields")]
    [InlineData("""{"positive": "a", "positive": "b", "negative": "c", "tok": "x", "alt": "y"}""", "field 'positive' appears twice")]
    [InlineData("""{"positive_ids": [1, 2], "negative_ids": [1, 3], "tok_id": 5, "alt_id": 5}""", "tok_id and alt_id are the same (5)")]
    [InlineData("""{"positive_ids": [], "negative_ids": [1, 3], "tok_id": 5, "alt_id": 6}""", "'positive_ids' must be a non-empty array")]
    [InlineData("""{"positive_ids": [1, "a"], "negative_ids": [1, 3], "tok_id": 5, "alt_id": 6}""", "'positive_ids'[1] is not an integer")]
    [InlineData("""{"positive_ids": [1, 2], "negative_ids": [1, 3], "tok_id": 5.5, "alt_id": 6}""", "'tok_id' must be an integer")]
    [InlineData("""{"positive_ids": [1, 2], "negative_ids": [1, 3], "tok_id": 5}""", "missing field 'alt_id'")]
    [InlineData("""{}""", "missing fields")]
    [InlineData("""[1, 2]""", "expected a JSON object, got array")]
    [InlineData("""{"positive": "a", "negative": "b",""", "not valid JSON")]
    public void Malformed_lines_name_the_file_line_and_problem(string badLine, string problem)
    {
        using var dir = new TempDir();
        string path = dir.Write("bad.jsonl", Valid + "\n" + badLine + "\n" + Valid + "\n");
        var e = Assert.Throws<SparseCircuitsException>(() => CustomTaskFile.Read(path));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Empty_and_missing_files_are_errors()
    {
        using var dir = new TempDir();
        string empty = dir.Write("empty.jsonl", "\n  \n");
        Assert.Contains("holds no pairs", Assert.Throws<SparseCircuitsException>(() => CustomTaskFile.Read(empty)).Message);
        Assert.Contains("file not found", Assert.Throws<SparseCircuitsException>(() => CustomTaskFile.Read(dir["nope.jsonl"])).Message);
    }

    [Fact]
    public void Token_ids_outside_the_vocabulary_name_the_line()
    {
        using var dir = new TempDir();
        int vocab = TaskTokenizer.Code.VocabSize;
        string path = dir.Write("ids.jsonl",
            "{\"positive_ids\": [1, 2], \"negative_ids\": [1, 3], \"tok_id\": 5, \"alt_id\": 6}\n" +
            $"{{\"positive_ids\": [1, {vocab}], \"negative_ids\": [1, 3], \"tok_id\": 5, \"alt_id\": 6}}\n");
        var e = Assert.Throws<SparseCircuitsException>(() => TaskDataset.FromFile(path, TaskTokenizer.Code, null));
        Assert.Equal($"{path}:2: positive_ids: token id {vocab} is outside the vocabulary 0..{vocab - 1}", e.Message);
    }

    static string Key(EncodedPair p) => $"{string.Join(' ', p.Positive)}|{string.Join(' ', p.Negative)}|{p.TokId}|{p.AltId}";
}

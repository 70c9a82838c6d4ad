using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The custom task file reader (to be swapped for the task suite's reader).</summary>
public sealed class JsonlTaskFileTests(SyntheticData data) : IClassFixture<SyntheticData>
{
    static string Pair(string word, string tok = "'", string alt = "\\\"") =>
        $$"""{"positive": "xs = '{{word}}' ; ys = '{{word}}", "negative": "xs = \"{{word}}\" ; ys = \"{{word}}", "tok": "{{tok}}", "alt": "{{alt}}"}""";

    [Fact]
    public void Pairs_become_prompts_split_50_25_25_with_pairs_kept_together()
    {
        using var dir = new TempDir();
        var tokenizer = CodeTokenizer.Load(data.TokenizerDir);
        string path = dir.Write("quotes.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(i => Pair("ab" + (char)('a' + i)))) + "\n\n");
        BinaryTask task = JsonlTaskFile.Read(path, tokenizer);
        Assert.Equal("quotes", task.Name);
        Assert.Equal((12, 6, 6), (task.Train.Count, task.Val.Count, task.Test.Count));
        int quote = tokenizer.Encode("'").Single(), doubleQuote = tokenizer.Encode("\"").Single();
        foreach (var split in new[] { task.Train, task.Val, task.Test })
            for (int i = 0; i < split.Count; i += 2)
            {
                Assert.Equal((quote, doubleQuote), (split[i].CorrectId, split[i].WrongId));
                Assert.Equal((doubleQuote, quote), (split[i + 1].CorrectId, split[i + 1].WrongId));
                Assert.Matches("^xs = 'ab.' ; ys = 'ab.$", tokenizer.Decode(split[i].PromptIds));
                Assert.Equal(tokenizer.Decode(split[i].PromptIds).Replace('\'', '"'), tokenizer.Decode(split[i + 1].PromptIds));
            }
        Assert.Equal(Json.Serialize(task), Json.Serialize(JsonlTaskFile.Read(path, tokenizer)));
    }

    [Fact]
    public void Bad_task_files_name_the_line_and_the_problem()
    {
        using var dir = new TempDir();
        var tokenizer = CodeTokenizer.Load(data.TokenizerDir);
        string four = string.Join("\n", Enumerable.Range(0, 4).Select(i => Pair("w" + i)));
        void Expect(string text, string message)
        {
            string path = dir.Write("t.jsonl", text);
            var e = Assert.Throws<SparseCircuitsException>(() => JsonlTaskFile.Read(path, tokenizer));
            Assert.Contains(message, e.Message);
        }
        Expect(four + "\n{ nope", "line 5 is not valid JSON");
        Expect(four + "\n{\"positive\": \"a\", \"negative\": \"b\", \"tok\": \"x\"}", "line 5 needs");
        Expect(four + "\n" + Pair("zz", tok: "qwertyuiopasdf"), "line 5: tok \"qwertyuiopasdf\" is");
        Expect(four + "\n" + Pair("zz", tok: "'", alt: "'"), "same token");
        Expect(Pair("a") + "\n" + Pair("b"), "at least 4");
        Assert.Contains("not found", Assert.Throws<SparseCircuitsException>(() => JsonlTaskFile.Read(dir["none.jsonl"], tokenizer)).Message);
    }
}

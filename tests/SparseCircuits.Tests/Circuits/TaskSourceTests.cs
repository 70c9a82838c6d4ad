using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The task suite feeding pruning: built-in tasks and custom files become prompt lists with swapped answers.</summary>
public sealed class TaskSourceTests(SyntheticData data) : IClassFixture<SyntheticData>
{
    CodeTokenizer Tokenizer => CodeTokenizer.Load(data.TokenizerDir);

    [Fact]
    public void Each_pair_gives_two_prompts_with_swapped_answers()
    {
        var pairs = new[] { new EncodedPair([1, 2], [1, 3], 7, 8), new EncodedPair([4], [5], 9, 10) };
        var prompts = TaskExample.FromPairs(pairs);
        Assert.Equal(4, prompts.Count);
        Assert.Equal([1, 2], prompts[0].PromptIds);
        Assert.Equal((7, 8), (prompts[0].CorrectId, prompts[0].WrongId));
        Assert.Equal([1, 3], prompts[1].PromptIds);
        Assert.Equal((8, 7), (prompts[1].CorrectId, prompts[1].WrongId));
    }

    [Fact]
    public void A_file_without_splits_is_shuffled_into_train_val_test_deterministically()
    {
        using var dir = new TempDir();
        string path = dir.Write("quotes.jsonl", string.Join("\n", Enumerable.Range(0, 20).Select(i =>
            $$"""{"positive": "xs = 'a{{(char)('a' + i)}}", "negative": "xs = \"a{{(char)('a' + i)}}", "tok": "'", "alt": "\""}""")));
        BinaryTask task = TaskSource.FromFile(path, Tokenizer, seed: 3);
        Assert.Equal((20, 10, 10), (task.Train.Count, task.Val.Count, task.Test.Count)); // 10/5/5 pairs, two prompts each
        var all = task.Train.Concat(task.Val).Concat(task.Test).Select(e => string.Join(',', e.PromptIds)).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(Json.Serialize(task), Json.Serialize(TaskSource.FromFile(path, Tokenizer, seed: 3)));
    }

    [Fact]
    public void A_file_with_its_own_splits_keeps_them()
    {
        using var dir = new TempDir();
        string[] splits = ["train", "train", "val", "test"];
        string path = dir.Write("t.jsonl", string.Join("\n", splits.Select((s, i) =>
            $$"""{"positive": "xs = 'a{{(char)('a' + i)}}", "negative": "xs = \"a{{(char)('a' + i)}}", "tok": "'", "alt": "\"", "split": "{{s}}"}""")));
        BinaryTask task = TaskSource.FromFile(path, Tokenizer);
        Assert.Equal((4, 2, 2), (task.Train.Count, task.Val.Count, task.Test.Count));
    }

    [Fact]
    public void Built_in_tasks_by_name_and_unknown_names()
    {
        var error = Assert.Throws<SparseCircuitsException>(() => TaskSource.FromBuiltIn("no_such_task", Tokenizer));
        Assert.Contains("valid tasks", error.Message);
        // The synthetic tokenizer knows little Python, but byte-level BPE can express every task.
        BinaryTask task = TaskSource.FromBuiltIn("for_while", Tokenizer, trainPairs: 8, valPairs: 4, testPairs: 4);
        Assert.Equal((16, 8, 8), (task.Train.Count, task.Val.Count, task.Test.Count));
        Assert.All(task.Train, e => Assert.NotEqual(e.CorrectId, e.WrongId));
    }
}

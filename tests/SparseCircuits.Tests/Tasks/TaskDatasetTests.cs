using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Tasks;

/// <summary>Encoding pairs with a real tokenizer: answers start new tokens, unusable pairs are counted, unusable tasks are reported.</summary>
public sealed class TaskDatasetTests
{
    public static TheoryData<string> TaskNames => [.. TaskRegistry.Names];

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void Answers_are_the_first_new_token_and_tok_differs_from_alt(string name)
    {
        var tokenizer = TaskTokenizer.Code;
        var data = TaskDataset.FromTask(TaskRegistry.Get(name), tokenizer, TaskSplit.Test, 60, seed: 3);
        Assert.True(data.Available, data.UnavailableReason);
        Assert.Equal(60, data.Pairs.Count);
        Assert.True(data.Yield >= 0.9, $"{name}: yield {data.Yield:0.00}, dropped {string.Join(", ", data.Dropped)}");
        foreach (EncodedPair pair in data.Pairs)
        {
            ContrastPair text = pair.Text!;
            Assert.NotEqual(pair.TokId, pair.AltId);
            Assert.Equal(tokenizer.EndOfTextId, pair.Positive[0]);
            Assert.Equal(tokenizer.EndOfTextId, pair.Negative[0]);
            Assert.Equal(tokenizer.Encode(text.Positive), pair.Positive[1..]);
            Assert.Equal(tokenizer.Encode(text.Negative), pair.Negative[1..]);
            int[] full = tokenizer.Encode(text.Positive + text.Tok);
            Assert.Equal(pair.Positive[1..], full[..(pair.Positive.Length - 1)]);
            Assert.Equal(pair.TokId, full[pair.Positive.Length - 1]);
            int[] fullAlt = tokenizer.Encode(text.Negative + text.Alt);
            Assert.Equal(pair.AltId, fullAlt[pair.Negative.Length - 1]);
            Assert.True(pair.Positive.Length <= 256 && pair.Negative.Length <= 256);
        }
    }

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void Classes_are_balanced(string name)
    {
        var data = TaskDataset.FromTask(TaskRegistry.Get(name), TaskTokenizer.Code, TaskSplit.Train, 40);
        var examples = TaskExample.FromPairs(data.Pairs);
        Assert.Equal(2 * data.Pairs.Count, examples.Count);
        // Every pair gives one prompt whose answer is tok and one whose answer is alt.
        Assert.Equal(data.Pairs.Count, examples.Where((e, i) => i % 2 == 0 && e.CorrectId == data.Pairs[i / 2].TokId).Count());
        Assert.Equal(data.Pairs.Count, examples.Where((e, i) => i % 2 == 1 && e.CorrectId == data.Pairs[i / 2].AltId).Count());
    }

    [Fact]
    public void Bracket_counting_answers_are_the_first_tokens_of_the_closing_text()
    {
        var tokenizer = TaskTokenizer.Code;
        var data = TaskDataset.FromTask(new BracketCounting(), tokenizer, TaskSplit.Test, 30);
        foreach (EncodedPair pair in data.Pairs.Where(p => p.Text!.Tok == "]]\n"))
        {
            Assert.Equal(tokenizer.Encode("]]\n")[0], pair.TokId);
            Assert.Equal(tokenizer.Encode("]\n")[0], pair.AltId);
        }
    }

    [Fact]
    public void A_task_the_tokenizer_cannot_express_is_unavailable_with_the_reason()
    {
        // Byte-level: "]]\n" and "]\n" both begin with "]".
        var data = TaskDataset.FromTask(new BracketCounting(), TaskTokenizer.ByteLevel, TaskSplit.Test, 50);
        Assert.False(data.Available);
        Assert.Contains("tok and alt begin with the same token", data.UnavailableReason);
        Assert.Contains("']'", data.UnavailableReason);
        Assert.Empty(data.Pairs);
        Assert.Equal(data.Candidates, data.Dropped.Values.Sum());
        Assert.True(data.Dropped[DropReason.SameAnswerToken] > data.Candidates / 2);

        // The quote task still works byte by byte.
        Assert.True(TaskDataset.FromTask(new SingleDoubleQuote(), TaskTokenizer.ByteLevel, TaskSplit.Test, 20).Available);
    }

    [Fact]
    public void Long_prompts_are_dropped_and_counted()
    {
        var options = new TaskDatasetOptions { MaxPromptTokens = 40 };
        var data = TaskDataset.FromTask(new ElseElif(), TaskTokenizer.Code, TaskSplit.Test, 30, options: options);
        Assert.True(data.Dropped.GetValueOrDefault(DropReason.TooLong) > 0);
        Assert.All(data.Pairs, p => Assert.True(p.Positive.Length <= 40 && p.Negative.Length <= 40));
        if (!data.Available) Assert.Contains("longer than the maximum prompt length", data.UnavailableReason);
    }

    [Fact]
    public void A_prompt_that_fuses_with_its_answer_is_dropped()
    {
        // "])" style: the prompt ends in a quote that merges with the answer's bracket into one pre-token.
        var pair = new ContrastPair("x = [\"a\"", "x = (\"a\"", "]\n", ")\n");
        Assert.Null(PairEncoder.TryEncode(pair, TaskTokenizer.Code, new TaskDatasetOptions(), out DropReason reason));
        Assert.Equal(DropReason.PromptBoundary, reason);
    }
}

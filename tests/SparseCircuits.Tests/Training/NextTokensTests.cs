using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Tests.Circuits;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

/// <summary>`TextSampler.NextTokens` and `circuits sample --next`: the model's most likely next tokens after a prompt.</summary>
public sealed class NextTokensTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    public void Lists_the_most_likely_tokens_with_the_softmax_of_the_last_position()
    {
        using var trained = TrainedModel.Load(run.RunDir);
        int[] prompt = trained.Tokenizer.Encode("for x in ");
        var next = TextSampler.NextTokens(trained.Model, prompt, 5);

        // Reference: the full softmax at the last position, sorted by hand.
        double[] all;
        using (no_grad())
        using (var scope = NewDisposeScope())
            all = nn.functional.softmax(trained.Model.forward(tensor(prompt.Select(t => (long)t).ToArray()).view(1, -1))
                .select(1, -1).squeeze(0).to(ScalarType.Float64), 0).data<double>().ToArray();
        var expected = all.Select((p, id) => (id, p)).OrderByDescending(t => t.p).Take(5).ToArray();
        Assert.Equal(5, next.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(expected[i].id, next[i].Id);
            Assert.Equal(expected[i].p, next[i].Probability, 1e-9);
        }
        Assert.True(next.Zip(next.Skip(1)).All(p => p.First.Probability >= p.Second.Probability), "most likely first");
        Assert.Equal(trained.Config.Model.VocabSize, TextSampler.NextTokens(trained.Model, prompt, 1_000_000).Count);
        Assert.Equal(1.0, TextSampler.NextTokens(trained.Model, prompt, 1_000_000).Sum(t => t.Probability), 1e-9);
    }

    [Fact]
    public void Empty_prompts_and_counts_below_one_are_refused()
    {
        using var trained = TrainedModel.Load(run.RunDir);
        Assert.Throws<SparseCircuitsException>(() => TextSampler.NextTokens(trained.Model, [], 3));
        Assert.Throws<SparseCircuitsException>(() => TextSampler.NextTokens(trained.Model, trained.Tokenizer.Encode("x"), 0));
    }

    [Fact]
    public void The_cli_prints_them_as_json_or_a_table()
    {
        var json = CliRunner.Run("sample", "--model", run.RunDir, "--prompt", "for x in ", "--next", "4", "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var rows = JsonDocument.Parse(json.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(4, rows.Count);
        using var trained = TrainedModel.Load(run.RunDir);
        foreach (var row in rows)
            Assert.Equal(trained.Tokenizer.Decode([row.GetProperty("id").GetInt32()]), row.GetProperty("text").GetString());

        var table = CliRunner.Run("sample", "--model", run.RunDir, "--prompt", "for x in ", "--next", "4");
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("probability", table.Stdout);

        CliRunner.AssertCleanError(CliRunner.Run("sample", "--model", run.RunDir, "--next", "0"), "--next must be >= 1");
        CliRunner.AssertCleanError(CliRunner.Run("sample", "--model", run.RunDir, "--json"), "--json goes with --next");
    }
}

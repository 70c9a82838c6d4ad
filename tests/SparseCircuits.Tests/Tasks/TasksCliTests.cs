using System.Text.Json;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Tasks;

/// <summary>`circuits tasks list | show | export | eval` end to end, and their bad-input errors.</summary>
public sealed class TasksCliTests(SyntheticData data) : IClassFixture<SyntheticData>
{
    [Fact]
    public void Unknown_task_names_list_the_valid_ones()
    {
        foreach (string[] args in new[]
                 {
                     new[] { "tasks", "show", "quotes" },
                     new[] { "tasks", "export", "quotes", "--out", "x.jsonl" },
                     new[] { "tasks", "eval", "--model", "nowhere", "--task", "quotes" },
                 })
        {
            var result = CliRunner.Run(args);
            CliRunner.AssertCleanError(result, "unknown task 'quotes'");
            Assert.Contains("single_double_quote", result.Stderr);
        }
    }

    [Fact]
    public void Tables_written_to_a_file_or_pipe_are_not_wrapped_at_80_columns()
    {
        // Output is redirected here, as in a log file: the default width is CircuitsApp.RedirectedWidth.
        static int Widest(CliRunner.Result r) { Assert.True(r.ExitCode == 0, r.Stderr); return r.Stdout.Split('\n').Max(l => l.TrimEnd().Length); }
        int wide = Widest(CliRunner.Run("tasks", "list"));
        Assert.InRange(wide, 81, global::SparseCircuits.Cli.CircuitsApp.RedirectedWidth);
        // COLUMNS still decides when set.
        Assert.InRange(Widest(CliRunner.Run(new Dictionary<string, string> { ["COLUMNS"] = "90" }, "tasks", "list")), 1, 90);
    }

    [Fact]
    public void List_shows_every_task_and_its_availability()
    {
        var plain = CliRunner.Run("tasks", "list");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        foreach (string name in TaskRegistry.Names) Assert.Contains(name, plain.Stdout);
        Assert.Contains("not checked", plain.Stdout);

        var checkedList = CliRunner.Run("tasks", "list", "--tokenizer", data.TokenizerDir, "--sample", "20");
        Assert.True(checkedList.ExitCode == 0, checkedList.Stderr);
        Assert.Contains("available", checkedList.Stdout);
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "list", "--tokenizer", data.TokenizerDir, "--model", data.TokenizerDir), "not both");
    }

    [Fact]
    public void Export_writes_a_file_that_show_reads_back()
    {
        using var dir = new TempDir();
        string file = dir["quotes.jsonl"];
        var export = CliRunner.Run("tasks", "export", "single_double_quote", "--split", "test", "--out", file, "--n", "12", "--seed", "4");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Contains("wrote 12 single_double_quote pairs", export.Stdout);
        Assert.Equal(new SingleDoubleQuote().Pairs(TaskSplit.Test, 12, seed: 4), CustomTaskFile.Read(file).Select(l => l.Text));

        var show = CliRunner.Run("tasks", "show", "--file", file, "-n", "2", "--tokenizer", data.TokenizerDir);
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.Contains("pair 2", show.Stdout);
        Assert.DoesNotContain("pair 3", show.Stdout);

        var builtIn = CliRunner.Run("tasks", "show", "bracket_counting", "--n", "3", "--split", "val");
        Assert.True(builtIn.ExitCode == 0, builtIn.Stderr);
        Assert.Contains("pair 3", builtIn.Stdout);

        CliRunner.AssertCleanError(CliRunner.Run("tasks", "export", "for_while", "--split", "dev", "--out", file), "--split must be train, val or test");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "export", "for_while", "--split", "test"), "--out is required");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "show", "for_while", "--n", "0"), "--n must be >= 1");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Eval_prints_a_table_and_json_for_built_in_and_custom_tasks()
    {
        using var dir = new TempDir();
        var train = CliRunner.Run("train", "--preset", "tiny", "--data", data.ShardDir, "--out", dir["run"], "--quiet", "--max-steps", "2",
            "--set", "model.n_ctx=256", "--set", "eval_interval=2", "--set", "checkpoint_interval=2", "--set", "eval_tokens=512");
        Assert.True(train.ExitCode == 0, train.Stderr);

        var table = CliRunner.Run("tasks", "eval", "--model", dir["run"], "--task", "single_double_quote,var_swap", "--n", "6", "--quiet");
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("single_double_quote", table.Stdout);
        Assert.Contains("var_swap", table.Stdout);
        Assert.Contains("2x this number", table.Stdout);

        var json = CliRunner.Run("tasks", "eval", "--model", dir["run"], "--task", "for_while", "--n", "5", "--json", "--quiet");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        var row = doc.RootElement.GetProperty("tasks")[0];
        Assert.Equal("for_while", row.GetProperty("task").GetString());
        Assert.Equal(5, row.GetProperty("pairs").GetInt32());
        double loss = row.GetProperty("loss").GetDouble();
        Assert.Equal(2 * loss, row.GetProperty("official_loss").GetDouble(), 9);
        // Each side of the pairs alone: the mean of the two sides is the task loss.
        Assert.Equal(loss, (row.GetProperty("positive_loss").GetDouble() + row.GetProperty("negative_loss").GetDouble()) / 2, 9);
        Assert.Equal(row.GetProperty("accuracy").GetDouble(),
            (row.GetProperty("positive_accuracy").GetDouble() + row.GetProperty("negative_accuracy").GetDouble()) / 2, 9);
        Assert.Equal("test", doc.RootElement.GetProperty("split").GetString());

        string custom = dir.Write("mine.jsonl", """{"positive": "xs = 'ab", "negative": "xs = \"ab", "tok": "'", "alt": "\""}""" + "\n");
        var customEval = CliRunner.Run("tasks", "eval", "--model", dir["run"], "--file", custom, "--json", "--quiet");
        Assert.True(customEval.ExitCode == 0, customEval.Stderr);
        Assert.Contains("\"task\": \"mine\"", customEval.Stdout);

        // A pair whose prompts differ only far from the end: a two-step model gives one answer to both, flagged one-sided.
        string same = dir.Write("same.jsonl", JsonSerializer.Serialize(new { positive = "a = 1\n\n\ndef f", negative = "b = 1\n\n\ndef f", tok = ":", alt = "(" }) + "\n");
        var sameEval = CliRunner.Run("tasks", "eval", "--model", dir["run"], "--file", same, "--quiet");
        Assert.True(sameEval.ExitCode == 0, sameEval.Stderr);
        Assert.Matches(@"same is one-sided: accuracy (1\.00 on positive prompts, 0\.00|0\.00 on positive prompts, 1\.00) on negative", sameEval.Stdout);

        // The hand-written pairs: every paper task, all test pairs, labelled as such.
        var handwritten = CliRunner.Run("tasks", "eval", "--model", dir["run"], "--handwritten", "--json", "--quiet");
        Assert.True(handwritten.ExitCode == 0, handwritten.Stderr);
        using (var hw = JsonDocument.Parse(handwritten.Stdout))
        {
            Assert.Equal("hand-written", hw.RootElement.GetProperty("pairs").GetString());
            Assert.Equal(TaskRegistry.Paper.Select(t => t.Name), hw.RootElement.GetProperty("tasks").EnumerateArray().Select(r => r.GetProperty("task").GetString()));
        }
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["run"], "--handwritten", "--file", custom), "not both");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["run"], "--handwritten", "--split", "train"), "all test pairs");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["run"], "--handwritten", "--task", "quote_assign"), "'quote_assign' has no hand-written pairs");

        string bad = dir.Write("bad.jsonl", """{"positive": "a", "negative": "b", "tok": "x"}""" + "\n");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["run"], "--file", bad), "bad.jsonl:1: missing field 'alt'");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["run"], "--file", custom, "--task", "for_while"), "not both");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["run"], "--max-prompt-tokens", "999"), "longer than the model's context");
    }

    [Fact]
    public void Eval_without_a_model_is_a_clean_error()
    {
        using var dir = new TempDir();
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval"), "--model is required");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "eval", "--model", dir["none"]), "none");
    }
}

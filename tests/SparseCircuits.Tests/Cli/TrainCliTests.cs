using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Cli;

/// <summary>`circuits train | sample | eval` end to end on a tiny model, and their bad-input errors.</summary>
public sealed class TrainCliTests(SyntheticData data) : IClassFixture<SyntheticData>
{
    string[] Train(string outDir, params string[] extra) =>
        ["train", "--preset", "tiny", "--data", data.ShardDir, "--out", outDir, "--quiet", "--max-steps", "20",
         "--set", "eval_interval=10", "--set", "checkpoint_interval=10", "--set", "model.n_ctx=32", "--set", "eval_tokens=256", .. extra];

    [Theory]
    [InlineData("model.d_model=-4", "d_model must be >= 1")]
    [InlineData("model.d_model=40", "multiple of d_head")]
    [InlineData("weight_density=0", "weight_density must be in (0, 1]")]
    [InlineData("embedding_density=1.5", "embedding_density must be in (0, 1]")]
    [InlineData("model.activation_sparsity.attn_in=0", "attn_in must be in (0, 1]")]
    [InlineData("model.activation_sparsity.mlp_neuron=2", "mlp_neuron must be in (0, 1]")]
    [InlineData("batch_size=0", "batch_size must be >= 1")]
    [InlineData("repeat_fraction=1.5", "repeat_fraction must be in [0, 1]")]
    [InlineData("keep_checkpoints_every=-1", "keep_checkpoints_every must be >= 0")]
    [InlineData("no_such_field=3", "unknown config field 'no_such_field'")]
    [InlineData("steps=abc", "config field steps must be a number (got \"abc\")")]
    [InlineData("dense=3", "config field dense must be true or false (got 3)")]
    [InlineData("steps=many", "steps")]
    public void Invalid_config_values_give_one_clear_error(string assignment, string expected)
    {
        using var dir = new TempDir();
        var result = CliRunner.Run(Train(dir["run"], "--set", assignment));
        CliRunner.AssertCleanError(result, expected);
        Assert.False(Directory.Exists(dir["run"]));
    }

    [Fact]
    public void Unknown_preset_and_missing_shards()
    {
        using var dir = new TempDir();
        CliRunner.AssertCleanError(CliRunner.Run("train", "--preset", "huge", "--data", data.ShardDir, "--out", dir["run"]), "unknown");
        CliRunner.AssertCleanError(CliRunner.Run("train", "--preset", "tiny", "--data", dir["nope"], "--out", dir["run"]), "shard directory not found");
        // --resume of a run that does not exist is an error, not a fresh run under that name.
        CliRunner.AssertCleanError(CliRunner.Run("train", "--preset", "tiny", "--data", data.ShardDir, "--out", dir["never"], "--resume"), "no training run to resume");
        Assert.False(Directory.Exists(dir["never"]));
        // --init of something that is not a run: one line, and no run directory left behind.
        CliRunner.AssertCleanError(CliRunner.Run("train", "--preset", "tiny", "--data", data.ShardDir, "--out", dir["warm"], "--init", dir["nope"]), "model directory not found");
        Assert.False(Directory.Exists(dir["warm"]));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_resume_sample_and_eval()
    {
        using var dir = new TempDir();
        var first = CliRunner.Run(Train(dir["run"], "--stop-after", "10"));
        Assert.True(first.ExitCode == 0, first.Stderr);
        // Neither the shards nor the config are given again: --resume takes the run's own.
        var resumed = CliRunner.Run("train", "--out", dir["run"], "--resume", "--quiet");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("step 20:", resumed.Stdout);

        var sample = CliRunner.Run("sample", "--model", dir["run"], "--prompt", "xs = '", "--tokens", "10", "--seed", "3");
        Assert.True(sample.ExitCode == 0, sample.Stderr);
        Assert.StartsWith("xs = '", sample.Stdout);
        Assert.Equal(sample.Stdout, CliRunner.Run("sample", "--model", dir["run"], "--prompt", "xs = '", "--tokens", "10", "--seed", "3").Stdout);

        var eval = CliRunner.Run("eval", "--model", dir["run"], "--split", "test", "--quiet");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Matches(@"test: \d+\.\d+ nats/token, \d+\.\d+ bits/byte", eval.Stdout);

        // Any kept step can be loaded by number or directory name; other values are one clear line.
        foreach (string step in new[] { "10", "step_000010" })
        {
            var early = CliRunner.Run("eval", "--model", dir["run"], "--checkpoint", step, "--tokens", "64", "--json", "--quiet");
            Assert.True(early.ExitCode == 0, early.Stderr);
            Assert.Equal(10, System.Text.Json.JsonDocument.Parse(early.Stdout).RootElement.GetProperty("step").GetInt64());
        }
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", dir["run"], "--checkpoint", "15", "--quiet"), "no complete checkpoint at step 15; it has 10, 20");
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", dir["run"], "--checkpoint", "newest", "--quiet"), "--checkpoint must be best, latest or a step");
    }

    [Fact]
    public void Corrupt_or_foreign_checkpoints_are_reported_and_nothing_is_overwritten()
    {
        using var dir = new TempDir();
        Assert.Equal(0, CliRunner.Run(Train(dir["run"], "--stop-after", "10")).ExitCode);
        string weights = Path.Combine(dir["run"], "checkpoints", "step_000010", "model.safetensors");
        byte[] original = File.ReadAllBytes(weights);

        // Truncated weights: the checkpoint's digest no longer matches.
        File.WriteAllBytes(weights, original[..(original.Length / 2)]);
        CliRunner.AssertCleanError(CliRunner.Run(Train(dir["run"], "--resume")), "step_000010");
        CliRunner.AssertCleanError(CliRunner.Run("sample", "--model", dir["run"]), "step_000010");
        Assert.Equal(original.Length / 2, new FileInfo(weights).Length);
        File.WriteAllBytes(weights, original);

        // Resuming with a different config is refused.
        CliRunner.AssertCleanError(CliRunner.Run(Train(dir["run"], "--resume", "--set", "learning_rate=0.5", "--config", Path.Combine(dir["run"], "config.json"))), "differs");
        // So is a --set on a plain --resume (it used to be dropped without a word).
        CliRunner.AssertCleanError(CliRunner.Run(Train(dir["run"], "--resume", "--set", "keep_checkpoints_every=7")), "differs");
        // A second run into the same directory without --resume is refused.
        CliRunner.AssertCleanError(CliRunner.Run(Train(dir["run"])), "--resume");
        Assert.Equal(original, File.ReadAllBytes(weights));
    }

    [Fact]
    public void A_second_training_of_the_same_directory_stops_at_once()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["run"]);
        // Hold the run's lock as a running training would.
        using (new FileStream(Path.Combine(dir["run"], ".train.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            CliRunner.AssertCleanError(CliRunner.Run(Train(dir["run"])), "another training is running");
            Assert.False(File.Exists(Path.Combine(dir["run"], "config.json")));
        }
        // Released: the same command now trains.
        File.Delete(Path.Combine(dir["run"], ".train.lock"));
        Assert.Equal(0, CliRunner.Run(Train(dir["run"], "--stop-after", "5")).ExitCode);
    }

    [Fact]
    public void A_runs_own_config_is_read_as_strictly_as_a_config_file()
    {
        using var dir = new TempDir();
        Assert.Equal(0, CliRunner.Run(Train(dir["run"], "--stop-after", "5")).ExitCode);
        string config = Path.Combine(dir["run"], "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"batch_size\"", "\"batch_sise\""));
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", dir["run"], "--quiet"), "unknown config field 'batch_sise'");
    }

    [Fact]
    public void Unconvertible_option_values_name_the_option()
    {
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", "nowhere", "--tokens", "abc"), "--tokens must be a number (got 'abc')");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", "nowhere", "--task", "for_while", "--steps", "1.5"), "--steps must be a whole number (got '1.5')");
    }

    [Fact]
    public void A_checkpoint_with_non_finite_weights_is_an_error_not_a_nan_loss()
    {
        using var dir = new TempDir();
        Assert.Equal(0, CliRunner.Run(Train(dir["run"], "--stop-after", "10")).ExitCode);
        // A later checkpoint whose weights hold a NaN, saved the way the trainer saves (valid, complete).
        var store = new SparseCircuits.Training.CheckpointStore(Path.Combine(dir["run"], "checkpoints"));
        using (var checkpoint = store.LoadLatest()!)
        {
            checkpoint.Model["lm_head.weight"].index_put_(TorchSharp.torch.tensor(float.NaN), 0, 0);
            var state = checkpoint.State with { Step = checkpoint.State.Step + 1 };
            store.Save(state.Step, checkpoint.Model, checkpoint.Optimizer, state, checkpoint.ConfigJson, valLoss: null);
        }
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", dir["run"], "--checkpoint", "latest", "--tokens", "200", "--quiet"), "non-finite");
    }

    [Fact]
    public void Sample_and_eval_need_a_trained_model()
    {
        using var dir = new TempDir();
        CliRunner.AssertCleanError(CliRunner.Run("sample", "--model", dir["missing"]), "not found");
        Directory.CreateDirectory(dir["empty"]);
        CliRunner.AssertCleanError(CliRunner.Run("eval", "--model", dir["empty"]), "not a training run");
        CliRunner.AssertCleanError(CliRunner.Run("sample", "--model", dir["empty"], "--temperature", "-1"), "--temperature");
    }
}

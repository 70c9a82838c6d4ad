using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Bridges;

[Collection(BridgedTinyPairCollection.Name)]
public sealed class BridgesCliTests(BridgedTinyPair pair)
{
    [Fact]
    public void Eval_and_steer_print_json_that_parses_and_save_their_files()
    {
        var eval = CliRunner.Run("bridges", "eval", pair.BridgedDir, "--tokens", "64", "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using (var doc = System.Text.Json.JsonDocument.Parse(eval.Stdout))
            Assert.Equal(4, doc.RootElement.GetProperty("sites").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(pair.BridgedDir, "bridges-eval.json")));

        var steer = CliRunner.Run("bridges", "steer", pair.BridgedDir, "--task", BridgedTinyPair.Task, "--node", BridgedTinyPair.SteeredNode.ToString(),
            "--strengths", "0,1", "--controls", "2", "--pairs", "8", "--json");
        Assert.True(steer.ExitCode == 0, steer.Stderr);
        using (var doc = System.Text.Json.JsonDocument.Parse(steer.Stdout))
            Assert.Equal(2, doc.RootElement.GetProperty("controls").GetArrayLength());
        string stem = Path.Combine(pair.BridgedDir, "bridges", $"steer-{BridgedTinyPair.Task}-1.mlp.act_in-3");
        Assert.True(File.Exists(stem + ".png") && File.Exists(stem + ".svg") && File.Exists(stem + ".json"));
    }

    [Fact]
    public void Train_starts_from_the_dense_runs_shards_and_resumes_with_only_out_and_resume()
    {
        string outDir = pair["cli-train"];
        var first = CliRunner.Run("bridges", "train", "--dense", pair.DenseDir, "--out", outDir, "--preset", "tiny", "--set", "model.n_ctx=32", "--set", "steps=4",
            "--set", "eval_tokens=128", "--set", "checkpoint_interval=2", "--set", "bridges.kl_sites_per_step=1", "--stop-after", "2", "--quiet");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var resumed = CliRunner.Run("bridges", "train", "--out", outDir, "--resume", "--quiet");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(4, SparseCircuits.Training.MetricsLog.Read(outDir).Count);
        Assert.Equal(1, SparseCircuits.Bridges.BridgeRunInfo.Load(outDir).Config.KlSitesPerStep);
    }

    [Fact]
    public void Bad_input_gives_one_error_line_and_a_nonzero_exit()
    {
        CliRunner.AssertCleanError(CliRunner.Run("bridges", "train", "--dense", pair.BridgedDir, "--data", pair.ShardDir, "--out", pair["cli-not-dense"], "--preset", "tiny"),
            "is not a dense run");
        CliRunner.AssertCleanError(CliRunner.Run("bridges", "steer", pair.BridgedDir, "--task", "no_such_task", "--node", "1.mlp.act_in[3]"), "unknown task 'no_such_task'");
        CliRunner.AssertCleanError(CliRunner.Run("bridges", "steer", pair.BridgedDir, "--task", BridgedTinyPair.Task, "--node", "1.mlp.act_in[4]"),
            $"is not in the {BridgedTinyPair.Task} circuit");
        CliRunner.AssertCleanError(CliRunner.Run("bridges", "steer", pair.BridgedDir, "--task", BridgedTinyPair.Task, "--node", "1.mlp.post_act[7]"),
            "not a residual channel read by a sublayer");
        CliRunner.AssertCleanError(CliRunner.Run("bridges", "eval", pair.DenseDir), "has no bridges");
        CliRunner.AssertCleanError(CliRunner.Run("bridges", "train", "--dense", pair.DenseDir, "--out", "/proc/x"), "cannot be written");
    }
}

using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Cli;

/// <summary>`circuits run`: the whole pipeline on generated sources, and resuming it.</summary>
public sealed class RunCliTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Runs_every_stage_with_a_dense_start_then_skips_them_all_on_a_rerun()
    {
        using var dir = new TempDir();
        int i = 0;
        foreach (string doc in SyntheticData.CopyTaskDocuments(600, seed: 5)) dir.Write($"src/f{i++}.py", doc);
        // A little generated Python next to the files, so the real/synthetic val losses are reported.
        string[] args = ["run", "--preset", "tiny", "--source", dir["src"], "--synthetic", "300kB", "--out", dir["pipe"], "--vocab", "300", "--quiet",
            "--dense-start-steps", "15", "--set", "steps=20", "--set", "model.n_ctx=32", "--set", "eval_tokens=256", "--set", "eval_interval=10", "--set", "checkpoint_interval=10"];

        var first = CliRunner.Run(args);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        Assert.DoesNotContain("already done", first.Stdout);
        Assert.Contains("real", first.Stdout); // "val real code X, synthetic Y" in the train row (the table may wrap it)
        Assert.Contains("synthetic", first.Stdout);
        foreach (string stage in new[] { "corpus/manifest.json", "tokenizer/tokenizer.meta.json", "shards/shards.json", "dense-start/config.json",
                     "model/config.json", "model/means/means.json", "circuits/summary.json", "report.html" })
            Assert.True(File.Exists(dir[$"pipe/{stage}"]), stage);
        AssertStartedFromTheDenseStart(dir["pipe"], plainSteps: 15);

        var second = CliRunner.Run(args);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Equal(8, second.Stdout.Split("already done").Length - 1);
        Assert.Contains("report: ", second.Stdout);
    }

    /// <summary>
    /// The dense start: a plain run of the same shape, whose final weights the sparse model took (the
    /// manifest's hash of the initial weights), and a sparse model with attention AbsTopK off.
    /// </summary>
    static void AssertStartedFromTheDenseStart(string pipeline, long plainSteps)
    {
        var plain = new RunDirectory(Path.Combine(pipeline, "dense-start"));
        var sparse = new RunDirectory(Path.Combine(pipeline, "model"));
        TrainingConfig plainConfig = plain.ReadConfig(), sparseConfig = sparse.ReadConfig();
        Assert.True(plainConfig.Dense);
        Assert.Equal(ActivationSparsity.Off, plainConfig.Model.ActivationSparsity);
        Assert.Equal(plainSteps, plainConfig.Steps);
        Assert.Equal(sparseConfig.Model with { ActivationSparsity = ActivationSparsity.Off }, plainConfig.Model);
        Assert.False(sparseConfig.Dense);
        Assert.Equal(DenseStart.SparseStage(sparseConfig).Model.ActivationSparsity, sparseConfig.Model.ActivationSparsity);
        Assert.NotNull(sparseConfig.Model.ActivationSparsity.MlpNeuron);

        string start = InitialWeights.Resolve(plain.Path);
        Assert.Equal(start, sparseConfig.InitFrom);
        Assert.Contains(Hashing.Sha256File(Path.Combine(start, CheckpointStore.ModelFile)), File.ReadAllText(sparse.ManifestFile));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void By_default_the_model_trains_from_a_random_init_with_the_presets_AbsTopK()
    {
        using var dir = new TempDir();
        int i = 0;
        foreach (string doc in SyntheticData.CopyTaskDocuments(300, seed: 6)) dir.Write($"src/f{i++}.py", doc);
        var run = CliRunner.Run("run", "--preset", "tiny", "--source", dir["src"], "--synthetic", "0", "--out", dir["pipe"], "--vocab", "300", "--quiet",
            "--task", "single_double_quote", "--set", "steps=10", "--set", "model.n_ctx=32", "--set", "eval_tokens=256");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.False(Directory.Exists(dir["pipe/dense-start"]));
        TrainingConfig config = new RunDirectory(dir["pipe/model"]).ReadConfig();
        Assert.Null(config.InitFrom);
        Assert.Equal(TrainingPresets.Get("tiny", 300).Model.ActivationSparsity, config.Model.ActivationSparsity);
        Assert.NotNull(config.Model.ActivationSparsity.AttnIn);
    }

    [Fact]
    public void Refuses_a_pipeline_directory_built_from_other_sources()
    {
        using var dir = new TempDir();
        dir.Write("a/x.py", "x = 1\n");
        dir.Write("b/y.py", "y = 2\n");
        // Only the corpus stage matters here; a vocab too large for the corpus stops after it.
        CliRunner.Run("run", "--source", dir["a"], "--synthetic", "0", "--out", dir["pipe"], "--quiet", "--vocab", "300");
        Assert.True(File.Exists(dir["pipe/corpus/manifest.json"]));
        CliRunner.AssertCleanError(CliRunner.Run("run", "--source", dir["b"], "--synthetic", "0", "--out", dir["pipe"], "--quiet"), "other sources");
        // The same sources with another amount of generated Python is another corpus too.
        CliRunner.AssertCleanError(CliRunner.Run("run", "--source", dir["a"], "--synthetic", "20kB", "--out", dir["pipe"], "--quiet"), "synthetic Python");
    }

    [Fact]
    public void Unknown_tasks_and_bad_targets_are_refused_before_any_stage_runs()
    {
        using var dir = new TempDir();
        CliRunner.AssertCleanError(CliRunner.Run("run", "--task", "no_such_task", "--out", dir["pipe"], "--quiet"), "unknown task 'no_such_task'");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--task", dir["missing.jsonl"], "--out", dir["pipe"], "--quiet"), "task file not found");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--target-loss", "0", "--out", dir["pipe"], "--quiet"), "target_loss");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--runs", "0", "--out", dir["pipe"], "--quiet"), "runs");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--preset", "huge", "--out", dir["pipe"], "--quiet"), "preset 'huge'");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--set", "steps=0", "--out", dir["pipe"], "--quiet"), "steps");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--dense-start-steps", "-1", "--out", dir["pipe"], "--quiet"), "dense start steps");
        Assert.False(Directory.Exists(dir["pipe"]));
    }
}

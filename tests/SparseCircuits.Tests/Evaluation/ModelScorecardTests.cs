using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Evaluation;
using SparseCircuits.Model;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;
using Xunit;

namespace SparseCircuits.Tests.Evaluation;

/// <summary>A tiny run trained on a corpus with real files and generated programs (so its shards have both val parts).</summary>
public sealed class TinyRunWithParts : IDisposable
{
    readonly SyntheticData _data = SyntheticData.From(SyntheticData.CopyTaskDocuments(200, seed: 4), vocab: 300, generatedBytes: 60_000);
    readonly TempDir _dir = new();

    public string RunDir => _dir["run"];
    public string ShardDir => _data.ShardDir;
    public TrainingConfig Config { get; }

    public TinyRunWithParts()
    {
        Config = TrainingPresets.Get("tiny", _data.VocabSize) with
        {
            Steps = 12, BatchSize = 4, EvalInterval = 6, CheckpointInterval = 6, EvalTokens = 256,
            Model = ModelPresets.Get("tiny", _data.VocabSize) with { NCtx = 32 },
        };
        Trainer.Run(new TrainingRequest(Config, _data.ShardDir, RunDir), NullProgress.Instance);
    }

    public void Dispose()
    {
        _dir.Dispose();
        _data.Dispose();
    }
}

public sealed class ModelScorecardTests(TinyRunWithParts run) : IClassFixture<TinyRunWithParts>
{
    [Fact]
    public void Every_measure_equals_the_one_made_on_its_own()
    {
        using var trained = TrainedModel.Load(run.RunDir, CheckpointChoice.Latest);
        var options = new ScorecardOptions { ValTokens = 600, TestPairs = 6, Seed = 2 };
        Scorecard card = ModelScorecard.Measure(trained, options, NullProgress.Instance);

        var shards = ShardManifest.Load(run.ShardDir);
        Assert.True(shards.HasParts);
        int[] bytes = trained.TokenByteLengths();
        double Loss(CorpusPart part)
        {
            using var shard = shards.Open(run.ShardDir, CorpusSplit.Val, part);
            return LanguageModelEval.Loss(trained.Model, shard, 600, bytesOfToken: bytes).LossNats;
        }
        Assert.Equal(Loss(CorpusPart.All), card.Val.LossNats);
        Assert.Equal(Loss(CorpusPart.Real), card.ValReal!.LossNats);
        Assert.Equal(Loss(CorpusPart.Synthetic), card.ValSynthetic!.LossNats);
        Assert.NotEqual(card.ValReal.LossNats, card.ValSynthetic.LossNats);
        Assert.NotNull(card.ValReal.BitsPerByte);

        Assert.Equal(TaskRegistry.PaperNames, card.Tasks.Select(t => t.Task));
        var scores = new List<TaskScore>();
        foreach (ContrastTask task in TaskRegistry.Paper)
        {
            var options2 = new TaskDatasetOptions { MaxPromptTokens = 32 };
            TaskDataset data = TaskDataset.FromTask(task, trained.Tokenizer, TaskSplit.Test, 6, seed: 2, options2);
            TaskScore? expected = data.Available && data.Pairs.Count > 0 ? TaskEvaluator.Evaluate(trained.Model, data) : null;
            Assert.Equal(expected, card.Tasks.Single(t => t.Task == task.Name).Test);
            if (expected is not null) scores.Add(expected);
        }
        Assert.Equal(scores.Count, card.TasksAvailable);
        Assert.Equal(scores.Average(s => s.Loss), card.MeanTaskLoss, 12);
        Assert.Equal(scores.Count(s => s.Solved), card.Solved);
        Assert.Equal(scores.Count(s => s.Accuracy >= TaskScore.SolvedAccuracy), card.Accurate);
        Assert.Equal(card.Tasks.Count(t => t.Handwritten is not null), card.HandwrittenAvailable);

        Assert.Equal(12, card.Step);
        Assert.Equal(12L * 4 * 32, card.TrainedTokens);
        var repeated = RepeatedTokensEval.Measure(trained.Model, length: 16);
        Assert.Equal(repeated.InductionGain, card.InductionGain);
    }

    [Fact]
    public void A_corpus_without_generated_programs_has_no_part_losses()
    {
        using var data = new SyntheticData();
        using var dir = new TempDir();
        var config = TrainingPresets.Get("tiny", data.VocabSize) with
        {
            Steps = 2, BatchSize = 2, EvalInterval = 2, CheckpointInterval = 2, EvalTokens = 128,
            Model = ModelPresets.Get("tiny", data.VocabSize) with { NCtx = 32 },
        };
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance);
        using var trained = TrainedModel.Load(dir["run"]);
        var card = ModelScorecard.Measure(trained, new ScorecardOptions { ValTokens = 200, TestPairs = 2 }, NullProgress.Instance);
        Assert.Null(card.ValReal);
        Assert.Null(card.ValSynthetic);
        Assert.True(double.IsFinite(card.Val.LossNats));
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Throws<SparseCircuitsException>(() => new ScorecardOptions { TestPairs = 0 }.Validate());
        Assert.Throws<SparseCircuitsException>(() => new ScorecardOptions { ValTokens = 0 }.Validate());
    }

    [Fact]
    public void Compare_prints_one_row_per_run_and_json_with_both_checkpoints()
    {
        var json = CliRunner.Run("compare", run.RunDir, $"{run.RunDir}@6", "--tokens", "300", "-n", "3", "--json", "--quiet");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(2, runs.Count);
        Assert.Equal(12, runs[0].GetProperty("scorecard").GetProperty("step").GetInt64());
        Assert.Equal(6, runs[1].GetProperty("scorecard").GetProperty("step").GetInt64());
        Assert.Equal(20, runs[0].GetProperty("scorecard").GetProperty("tasks").GetArrayLength());
        Assert.True(runs[0].GetProperty("scorecard").GetProperty("val_real").GetProperty("loss_nats").GetDouble() > 0);

        var table = CliRunner.Run("compare", run.RunDir, "--checkpoint", "6", "--tokens", "300", "-n", "3", "--tasks", "--quiet");
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("while_return_true", table.Stdout);
        var atSix = runs[1].GetProperty("scorecard");
        Assert.Contains($"{atSix.GetProperty("solved").GetInt32()}/{atSix.GetProperty("tasks_available").GetInt32()}", table.Stdout);
    }

    [Fact]
    public void Compare_refuses_missing_runs_and_bad_checkpoints_with_one_line()
    {
        CliRunner.AssertCleanError(CliRunner.Run("compare", run.RunDir + "-missing", "--quiet"), "run directory not found");
        CliRunner.AssertCleanError(CliRunner.Run("compare", run.RunDir + "@soon", "--quiet"), "a checkpoint is best, latest or a step");
        CliRunner.AssertCleanError(CliRunner.Run("compare", run.RunDir + "@7", "--quiet"), "no complete checkpoint at step 7");
        CliRunner.AssertCleanError(CliRunner.Run("compare", run.RunDir, "-n", "0", "--quiet"), "test pairs per task must be >= 1");
    }
}

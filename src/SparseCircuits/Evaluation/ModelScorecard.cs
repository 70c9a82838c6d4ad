using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using SparseCircuits.Training;

namespace SparseCircuits.Evaluation;

/// <summary>What <see cref="ModelScorecard.Measure"/> measures and on how much data.</summary>
public sealed record ScorecardOptions
{
    /// <summary>Token shards for the val losses; null = the ones the run was trained on.</summary>
    public string? DataDir { get; init; }
    /// <summary>Predicted tokens per val loss (whole split when it is shorter).</summary>
    public long ValTokens { get; init; } = long.MaxValue;
    /// <summary>Generated test pairs per paper task.</summary>
    public int TestPairs { get; init; } = 200;
    /// <summary>Generator seed of the test pairs.</summary>
    public ulong Seed { get; init; }
    public PromptContext Context { get; init; } = PromptContext.Short;

    public ScorecardOptions Validate()
    {
        if (ValTokens < 1) throw new SparseCircuitsException($"val tokens must be >= 1 (got {ValTokens})");
        if (TestPairs < 1) throw new SparseCircuitsException($"test pairs per task must be >= 1 (got {TestPairs})");
        return this;
    }
}

/// <summary>One paper task on a scorecard: generated test pairs and the hand-written ones (null where unavailable).</summary>
public sealed record ScorecardTask(string Task, TaskScore? Test, TaskScore? Handwritten, string? UnavailableReason)
{
    public bool Solved => Test?.Solved ?? false;
}

/// <summary>
/// A trained model's standing on every measure the training experiments compare (docs/training.md):
/// val loss on the whole split and on its real and generated parts, the 20 paper tasks on generated
/// test pairs and on hand-written ones, and the induction gain on repeated random tokens.
/// </summary>
/// <param name="TrainedTokens">tokens this run trained on up to its step (batch x context x step; a warm start's earlier tokens not counted)</param>
/// <param name="ValReal">loss on the real files of val; null when the corpus has no generated part</param>
/// <param name="MeanTaskLoss">mean test loss over the available paper tasks</param>
/// <param name="Accurate">paper tasks with test accuracy at least <see cref="TaskScore.SolvedAccuracy"/></param>
public sealed record Scorecard(string Run, string Checkpoint, long Step, long TrainedTokens,
    LanguageModelEval.Result Val, LanguageModelEval.Result? ValReal, LanguageModelEval.Result? ValSynthetic,
    double MeanTaskLoss, int Solved, int Accurate, int TasksAvailable,
    double? HandwrittenMeanLoss, int HandwrittenSolved, int HandwrittenAvailable,
    RepeatedTokensEval.Result Repeated, IReadOnlyList<ScorecardTask> Tasks)
{
    public double InductionGain => Repeated.InductionGain;
}

public static class ModelScorecard
{
    /// <summary>Measures <paramref name="trained"/> on every part of its scorecard (minutes for a `small` model on the whole val split).</summary>
    public static Scorecard Measure(TrainedModel trained, ScorecardOptions options, IProgressReporter progress)
    {
        options.Validate();
        var (shards, dataDir) = trained.Shards(options.DataDir);
        int[] bytesOfToken = trained.TokenByteLengths();
        LanguageModelEval.Result Loss(CorpusPart part)
        {
            using var shard = shards.Open(dataDir, CorpusSplit.Val, part);
            if (shard.Length <= trained.Config.Model.NCtx)
                throw new SparseCircuitsException($"the val{(part == CorpusPart.All ? "" : "." + part.ToString().ToLowerInvariant())} shard of {dataDir} holds {shard.Length} tokens, fewer than one window of {trained.Config.Model.NCtx + 1}");
            using var bar = progress.Start($"val loss ({ShardManifest.Key(CorpusSplit.Val, part)})", Math.Min(options.ValTokens, shard.Length), "tokens");
            var result = LanguageModelEval.Loss(trained.Model, shard, options.ValTokens, bytesOfToken: bytesOfToken, progress: bar);
            if (!double.IsFinite(result.LossNats))
                throw new SparseCircuitsException($"the loss of {trained.CheckpointDir} is {result.LossNats}: the checkpoint holds non-finite weights or activations");
            return result;
        }
        var val = Loss(CorpusPart.All);
        var (real, synthetic) = shards.HasParts ? (Loss(CorpusPart.Real), Loss(CorpusPart.Synthetic)) : (null, null);

        var datasetOptions = new TaskDatasetOptions { MaxPromptTokens = trained.Config.Model.NCtx, Context = options.Context }.Validate();
        var tasks = new List<ScorecardTask>();
        using (var bar = progress.Start("paper tasks", TaskRegistry.Paper.Count, "tasks"))
        {
            foreach (ContrastTask task in TaskRegistry.Paper)
            {
                bar.Status(task.Name);
                TaskDataset test = TaskDataset.FromTask(task, trained.Tokenizer, TaskSplit.Test, options.TestPairs, options.Seed, datasetOptions);
                TaskDataset? handwritten = HandwrittenPairs.Has(task.Name) ? TaskDataset.FromHandwritten(task, trained.Tokenizer, options: datasetOptions) : null;
                tasks.Add(new ScorecardTask(task.Name, Score(trained, test), handwritten is null ? null : Score(trained, handwritten),
                    test.Available ? null : test.UnavailableReason));
                bar.Advance(1);
            }
        }
        var tested = tasks.Where(t => t.Test is not null).ToList();
        var written = tasks.Where(t => t.Handwritten is not null).ToList();
        var repeated = RepeatedTokensEval.Measure(trained.Model, length: RepeatedTokensEval.DefaultLength(trained.Config.Model.NCtx));
        long tokensPerStep = (long)trained.Config.BatchSize * trained.Config.Model.NCtx;
        return new Scorecard(trained.Run.Path, trained.CheckpointDir, trained.Step, tokensPerStep * trained.Step, val, real, synthetic,
            tested.Count == 0 ? double.NaN : tested.Average(t => t.Test!.Loss), tested.Count(t => t.Solved),
            tested.Count(t => t.Test!.Accuracy >= TaskScore.SolvedAccuracy), tested.Count,
            written.Count == 0 ? null : written.Average(t => t.Handwritten!.Loss), written.Count(t => t.Handwritten!.Solved), written.Count,
            repeated, tasks);
    }

    static TaskScore? Score(TrainedModel trained, TaskDataset data) =>
        data.Available && data.Pairs.Count > 0 ? TaskEvaluator.Evaluate(trained.Model, data) : null;
}

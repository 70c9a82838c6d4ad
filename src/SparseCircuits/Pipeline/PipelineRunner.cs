using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;

namespace SparseCircuits.Pipeline;

/// <param name="Sources">corpus sources; empty = the machine's Python standard library</param>
public sealed record PipelineOptions(string OutDir, string Preset = "small", IReadOnlyList<string>? Sources = null,
    int VocabSize = BpeTrainer.DefaultVocabSize, IReadOnlyList<string>? TrainingOverrides = null, string CommandLine = "");

/// <summary>
/// corpus -> tokenizer -> shards -> training -> mean cache -> circuits for every task, each stage
/// skipped when its output is already there and valid, so an interrupted `circuits run` resumes
/// where it stopped (training itself resumes from its last checkpoint).
/// </summary>
public static class PipelineRunner
{
    public static IReadOnlyList<StageResult> Run(PipelineOptions options, IProgressReporter progress, CancellationToken cancellation = default)
    {
        var layout = new PipelineLayout(Path.GetFullPath(options.OutDir));
        var results = new List<StageResult>(Stages.Data(layout, options.Sources ?? [], options.VocabSize, progress))
        {
            Stages.Train(layout.Model, layout.Shards,
                vocab => ConfigLoader.Load(TrainingPresets.Get(options.Preset, vocab), jsonFile: null, options.TrainingOverrides ?? []),
                options.CommandLine, progress, cancellation),
        };
        using (var trained = TrainedModel.Load(layout.Model))
        {
            results.Add(Stages.Means(trained, layout.Shards, progress));
            results.Add(PruneTasks(trained, layout, progress));
        }
        return results;
    }

    static StageResult PruneTasks(TrainedModel trained, PipelineLayout layout, IProgressReporter progress)
    {
        string summaryPath = Path.Combine(layout.Circuits, TaskSuiteSummary.FileName);
        if (File.Exists(summaryPath)) return new StageResult("circuits", true, summaryPath);
        using MeanActivations means = MeanCache.Load(ModelReference.Of(trained));
        var summary = TaskSuitePruning.Run(trained, means, new PruningConfig().Validate(), layout.Circuits, seed: 0, progress);
        int pruned = summary.Tasks.Count(t => t.Pruned);
        return new StageResult("circuits", false,
            $"{pruned} of {summary.Tasks.Count} tasks pruned at loss {summary.TargetLoss}" +
            (summary.GeometricMeanEdges is double g ? $", geometric mean {g:0.0} edges" : " (the model reaches the target on none)"));
    }
}

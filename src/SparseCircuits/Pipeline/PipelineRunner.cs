using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Reports;
using SparseCircuits.Training;

namespace SparseCircuits.Pipeline;

/// <param name="Sources">corpus sources; empty = the machine's Python standard library</param>
/// <param name="Pruning">pruning settings of the circuits stage (target loss, search budget, ...)</param>
/// <param name="Tasks">which tasks the circuits stage prunes, and whether it relaxes unreachable targets</param>
/// <param name="SyntheticBytes">generated simple Python next to the real files (0 = none)</param>
/// <param name="DenseStartSteps">
/// steps of the plain model the sparse one starts from (<see cref="DenseStart"/>); 0 = none, the default:
/// the paper's schedule, sparse from a random init with AbsTopK at the preset's locations (docs/training.md,
/// "Session 17", has the measurement: with a dense start one more task solved, circuits 3-7x larger)
/// </param>
public sealed record PipelineOptions(string OutDir, string Preset = "small", IReadOnlyList<string>? Sources = null,
    int VocabSize = BpeTrainer.DefaultVocabSize, IReadOnlyList<string>? TrainingOverrides = null, string CommandLine = "",
    PruningConfig? Pruning = null, TaskSuiteOptions? Tasks = null, long? SyntheticBytes = null, long DenseStartSteps = 0)
{
    public bool HasDenseStart => DenseStartSteps > 0;

    /// <summary>
    /// Generated simple Python added to the real files by default (docs/training.md has the
    /// measurement that chose it): about as many bytes as the standard library itself.
    /// </summary>
    public const string DefaultSynthetic = "120MB";

    /// <summary>
    /// The circuits stage's defaults, sized for a demo run on 2 cores: the paper's target and mask
    /// settings, but one search run of 200 steps on 64 prompts (32 pairs) instead of three runs of 300
    /// steps on 128 (`circuits prune` keeps those); and targets relaxed to the model's own loss + 0.05
    /// for tasks a small model answers better than chance but not at 0.15.
    /// </summary>
    public const int DefaultPruningRuns = 1;
    /// <summary>
    /// The pipeline prunes every task it can, so each search is shorter than `circuits prune`'s
    /// (docs/circuits.md, "The search"): half the prompts per step, fewer steps, a smaller refinement.
    /// </summary>
    public static PruningConfig DefaultPruning { get; } =
        new() { Runs = DefaultPruningRuns, Steps = 400, BatchPrompts = 64, RefineEvaluations = 200, SkipSearchWhenEmptyReaches = true };
    /// <summary>
    /// Relaxed-target tasks are pruned while the circuits stage has used fewer than 20 minutes, so
    /// the whole run keeps to about an hour on 2 cores (training takes about 25 minutes in fp32).
    /// </summary>
    public const double DefaultRelaxedMinutes = 20;
    /// <summary>The suite of the circuits stage; an interrupted stage keeps the circuits it finished (same weights, same target).</summary>
    public static TaskSuiteOptions DefaultTasks { get; } = new() { RelaxedTargetSlack = 0.05, RelaxedMinutes = DefaultRelaxedMinutes, ReuseFinished = true };
}

/// <summary>
/// corpus -> tokenizer -> shards -> training -> mean cache -> circuits for every task -> HTML report, each stage
/// skipped when its output is already there and valid, so an interrupted `circuits run` resumes
/// where it stopped (training itself resumes from its last checkpoint).
/// </summary>
public static class PipelineRunner
{
    public static IReadOnlyList<StageResult> Run(PipelineOptions options, IProgressReporter progress, CancellationToken cancellation = default)
    {
        var layout = new PipelineLayout(Path.GetFullPath(options.OutDir));
        // A bad preset, --set value or step count is found now, not after minutes of data preparation.
        if (options.DenseStartSteps < 0)
            throw new SparseCircuitsException($"dense start steps must be >= 0 (0 = none); got {options.DenseStartSteps}");
        ModelConfigFor(options, options.VocabSize);
        var corpus = new CorpusOptions { Sources = options.Sources ?? [], SyntheticBytes = options.SyntheticBytes ?? CorpusOptions.ParseSize(PipelineOptions.DefaultSynthetic) };
        var results = new List<StageResult>(Stages.Data(layout, corpus, options.VocabSize, progress));
        if (options.HasDenseStart) results.Add(TrainDenseStart(layout, options, progress, cancellation));
        // Asked for only once the dense start has finished, so its checkpoint can be named.
        TrainingConfig NewModel(int vocab) => options.HasDenseStart
            ? ModelConfigFor(options, vocab) with { InitFrom = InitialWeights.Resolve(layout.DenseStart) }
            : ModelConfigFor(options, vocab);
        results.Add(Stages.Train(layout.Model, layout.Shards, NewModel, options.CommandLine, progress, cancellation));
        using (var trained = TrainedModel.Load(layout.Model))
        {
            results.Add(Stages.Means(trained, layout.Shards, progress));
            results.Add(PruneTasks(trained, layout, options, progress));
        }
        results.Add(Report(layout, progress));
        return results;
    }

    /// <summary>
    /// The config of the model the pipeline explains: the preset for this machine (with attention
    /// AbsTopK off under a dense start), then the user's --set overrides, validated.
    /// </summary>
    static TrainingConfig ModelConfigFor(PipelineOptions options, int vocab)
    {
        TrainingConfig preset = TrainingPresets.ForThisMachine(options.Preset, vocab);
        return ConfigLoader.Load(options.HasDenseStart ? DenseStart.SparseStage(preset) : preset, jsonFile: null, options.TrainingOverrides ?? []).Validate();
    }

    /// <summary>
    /// The plain model the sparse one starts from; skipped once the sparse run exists (it has taken
    /// its weights, and an older pipeline directory may have none).
    /// </summary>
    static StageResult TrainDenseStart(PipelineLayout layout, PipelineOptions options, IProgressReporter progress, CancellationToken cancellation)
    {
        const string stage = "dense start";
        var model = new RunDirectory(layout.Model);
        if (model.HasRun)
            return new StageResult(stage, true, model.ReadConfig().InitFrom is string from ? $"the model started from {from}" : "the model started without one");
        return Stages.Train(layout.DenseStart, layout.Shards,
            vocab => DenseStart.PlainStage(ModelConfigFor(options, vocab), options.DenseStartSteps).Validate(),
            options.CommandLine, progress, cancellation, stage);
    }

    /// <summary>The HTML viewer of the model and its circuits; rebuilt when older than the circuits summary it shows.</summary>
    static StageResult Report(PipelineLayout layout, IProgressReporter progress)
    {
        string summary = Path.Combine(layout.Circuits, TaskSuiteSummary.FileName);
        if (File.Exists(layout.Report) && File.GetLastWriteTimeUtc(layout.Report) >= File.GetLastWriteTimeUtc(summary))
            return new StageResult("report", true, layout.Report);
        ReportData data = ReportBuilder.Build(new ReportOptions { ModelDir = layout.Model, CircuitsDir = layout.Circuits }, progress);
        ReportHtml.Write(data, layout.Report);
        return new StageResult("report", false, $"{layout.Report} ({new FileInfo(layout.Report).Length / 1e6:0.0} MB, {data.Circuits.Count} circuits)");
    }

    static StageResult PruneTasks(TrainedModel trained, PipelineLayout layout, PipelineOptions options, IProgressReporter progress)
    {
        string summaryPath = Path.Combine(layout.Circuits, TaskSuiteSummary.FileName);
        if (File.Exists(summaryPath)) return new StageResult("circuits", true, summaryPath);
        using MeanActivations means = MeanCache.Load(ModelReference.Of(trained));
        var summary = TaskSuitePruning.Run(trained, means, (options.Pruning ?? PipelineOptions.DefaultPruning).Validate(), layout.Circuits, seed: 0,
            progress, options.Tasks ?? PipelineOptions.DefaultTasks);
        int atTarget = summary.Tasks.Count(t => t.Pruned && !summary.IsRelaxed(t)), relaxed = summary.Tasks.Count(summary.IsRelaxed);
        return new StageResult("circuits", false,
            $"{atTarget} of {summary.Tasks.Count} tasks pruned at loss {summary.TargetLoss}" +
            (summary.GeometricMeanEdges is double g ? $" (geometric mean {g:0.0} edges)" : "") +
            (relaxed > 0 ? $", {relaxed} more at relaxed targets ({string.Join(", ", summary.Tasks.Where(summary.IsRelaxed).Select(t => $"{t.Task} @ {t.TargetLoss}"))})" : ""));
    }
}

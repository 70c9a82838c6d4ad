using System.ComponentModel;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Tasks;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits prune</c>: the smallest circuit of a model for a task at a target loss, validated, as circuit.json.</summary>
public sealed class PruneCommand : Command<PruneCommand.Settings>
{
    public sealed class Settings : TrainedModelSettings
    {
        [CommandOption("--file <F.jsonl>")]
        [Description("Custom task: one {\"positive\", \"negative\", \"tok\", \"alt\"} pair per line.")]
        public string? File { get; init; }

        [CommandOption("--all-tasks")]
        [Description("Prune every task of the paper's suite (20) that the model can reach the target on; writes circuits/summary.json.")]
        public bool AllTasks { get; init; }

        [CommandOption("--task <NAME>")]
        [Description("A task of the built-in suite.")]
        public string? Task { get; init; }

        [CommandOption(PromptContextOption.Template)]
        [Description(PromptContextOption.Help)]
        [DefaultValue(PromptContextOption.Default)]
        public string Context { get; init; } = PromptContextOption.Default;

        [CommandOption("--target-loss <L>")]
        [Description("Task loss the circuit must reach on the validation prompts (mean BCE per prompt).")]
        [DefaultValue(PruningConfig.DefaultTargetLoss)]
        public double TargetLoss { get; init; } = PruningConfig.DefaultTargetLoss;

        [CommandOption("--out <DIR>")]
        [Description("Where circuit.json goes (default: <model>/circuits/<task>).")]
        public string? Out { get; init; }

        [CommandOption("--method <learned|attribution>")]
        [Description("learned: node masks (the paper's method); attribution: top nodes by gradient x (activation - mean).")]
        [DefaultValue("learned")]
        public string Method { get; init; } = "learned";

        [CommandOption("--runs <N>")]
        [Description("Mask-learning runs of the hyperparameter search (k_coef / lr / seed around the centres); the smallest circuit wins. Default: 1, or as many as fit in --budget.")]
        public int? Runs { get; init; }

        [CommandOption("--budget <MINUTES>")]
        [Description("CPU minutes the search may use (runs while one more fits, then the refinement until it is spent); default: no limit.")]
        public double? Budget { get; init; }

        [CommandOption("--steps <N>")]
        [Description("Mask-learning steps per run.")]
        [DefaultValue(PruningConfig.DefaultSteps)]
        public int Steps { get; init; } = PruningConfig.DefaultSteps;

        [CommandOption("--k-coef <C>")]
        [Description("Centre of the search for the penalty per open node.")]
        [DefaultValue(PruningConfig.DefaultKCoef)]
        public double KCoef { get; init; } = PruningConfig.DefaultKCoef;

        [CommandOption("--lr <LR>")]
        [Description("Centre of the search for the learning rate.")]
        [DefaultValue(PruningConfig.DefaultLearningRate)]
        public double LearningRate { get; init; } = PruningConfig.DefaultLearningRate;

        [CommandOption("--ablation <mean|zero>")]
        [Description("What removed nodes are frozen to while pruning.")]
        [DefaultValue(AblationKind.Mean)]
        public AblationKind Ablation { get; init; } = AblationKind.Mean;

        [CommandOption("--tie-qk")]
        [Description("One mask entry for q channel j and k channel j.")]
        public bool TieQk { get; init; }

        [CommandOption("--calibrate")]
        [Description("Fit a scale and shift of the final logits when scoring circuits (reported in the file).")]
        public bool Calibrate { get; init; }

        [CommandOption("--no-refine")]
        [Description("Keep the ranking's cut as it is (default: shrink it by backward elimination on the validation prompts, at most refine_evaluations evaluations).")]
        public bool NoRefine { get; init; }

        [CommandOption("--set <FIELD=VALUE>")]
        [Description("Any pruning config field (snake_case, e.g. temperature_end=0.1, batch_prompts=64); applied after the options above.")]
        public string[] Set { get; init; } = [];

        [CommandOption("--seed <S>")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption("--compute-means")]
        [Description("Compute the mean cache first if it is missing or stale.")]
        public bool ComputeMeans { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        int sources = (settings.File is null ? 0 : 1) + (settings.Task is null ? 0 : 1) + (settings.AllTasks ? 1 : 0);
        if (sources != 1) throw new SparseCircuitsException("give exactly one of --task NAME, --file F.jsonl or --all-tasks");
        if (settings.Out is not null) OutputPath.CheckDirectory(settings.Out); // before the search, not after it
        if (settings.Task is not null) Tasks.TaskRegistry.Get(settings.Task); // unknown names fail before the model loads
        PruningMethod method = settings.Method switch
        {
            "learned" or "learned_mask" => PruningMethod.LearnedMask,
            "attribution" => PruningMethod.Attribution,
            _ => throw new SparseCircuitsException($"--method must be learned or attribution; got '{settings.Method}'"),
        };
        PruningConfig config = new PruningConfig
        {
            TargetLoss = settings.TargetLoss, Method = method, Ablation = settings.Ablation, Runs = settings.Runs, BudgetMinutes = settings.Budget, Steps = settings.Steps,
            KCoef = settings.KCoef, LearningRate = settings.LearningRate, TieQk = settings.TieQk, Calibrate = settings.Calibrate, Seed = settings.Seed,
            RefineEvaluations = settings.NoRefine ? 0 : PruningConfig.DefaultRefineEvaluations,
        };
        config = ConfigLoader.Load(config, (string?)null, settings.Set).Validate();

        using var trained = TrainedModel.Load(settings.Model, settings.Checkpoint);
        ModelReference model = ModelReference.Of(trained);
        string circuitsDir = settings.Out ?? Path.Combine(trained.Run.Path, "circuits");
        if (settings.AllTasks) return PruneAll(settings, trained, model, config, circuitsDir);

        var fits = FitsContext(trained) with { Context = PromptContexts.Parse(settings.Context) };
        BinaryTask task = settings.File is not null
            ? TaskSource.FromFile(settings.File, trained.Tokenizer, settings.Seed, fits)
            : TaskSource.FromBuiltIn(settings.Task!, trained.Tokenizer, settings.Seed, fits);
        string outDir = settings.Out ?? Path.Combine(circuitsDir, task.Name);
        Circuit circuit = ConsoleProgress.Run(settings, progress =>
        {
            using MeanActivations means = LoadMeans(trained, model, settings.ComputeMeans, progress);
            return CircuitPruning.Run(trained.Model, means, task, config, progress, model,
                settings.File is not null ? Path.GetFullPath(settings.File) : TaskSource.BuiltInSource(task.Name, fits.Context));
        });
        string path = Path.Combine(outDir, CircuitFile.FileName);
        CircuitFile.Save(path, circuit);
        CircuitSummary.Print(circuit);
        Console.WriteLine($"wrote {Path.GetFullPath(path)} ({TimeSpan.FromSeconds(circuit.Seconds):hh\\:mm\\:ss})");
        return 0;
    }

    /// <summary>Every built-in task, one after another; tasks the model cannot solve are listed with the reason.</summary>
    static int PruneAll(Settings settings, TrainedModel trained, ModelReference model, PruningConfig config, string circuitsDir)
    {
        var summary = ConsoleProgress.Run(settings, progress =>
        {
            using MeanActivations means = LoadMeans(trained, model, settings.ComputeMeans, progress);
            return TaskSuitePruning.Run(trained, means, config, circuitsDir, settings.Seed, progress,
                new TaskSuiteOptions { Context = PromptContexts.Parse(settings.Context) });
        });
        TaskSuiteTable.Print(summary);
        Console.WriteLine($"wrote {Path.GetFullPath(Path.Combine(circuitsDir, TaskSuiteSummary.FileName))}");
        return 0;
    }

    /// <summary>Prompts longer than the model's context are dropped (and counted) rather than failing the task.</summary>
    static Tasks.TaskDatasetOptions FitsContext(TrainedModel trained) => new() { MaxPromptTokens = trained.Config.Model.NCtx };

    static MeanActivations LoadMeans(TrainedModel trained, ModelReference model, bool compute, IProgressReporter progress)
    {
        if (compute) return MeanCache.LoadOrBuild(trained, null, MeanCache.DefaultTokens, progress, out _);
        try
        {
            return MeanCache.Load(model);
        }
        catch (SparseCircuitsException e)
        {
            throw new SparseCircuitsException($"{e.Message} (or pass --compute-means)");
        }
    }
}

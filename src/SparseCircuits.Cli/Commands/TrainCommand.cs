using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits train</c>: weight-sparse (or dense) training on token shards.</summary>
public sealed class TrainCommand : Command<TrainCommand.Settings>
{
    const string DefaultData = "data/shards";

    public sealed class Settings : TrainingRunSettings
    {
        [CommandOption("--preset <NAME>")]
        [Description("tiny | small | base | paper-1x..paper-16x (configs for big machines).")]
        [DefaultValue("small")]
        public string Preset { get; init; } = "small";

        [CommandOption("--config <FILE>")]
        [Description("JSON file with config fields (snake_case) laid over the preset; a run's own config.json works.")]
        public string? Config { get; init; }

        [CommandOption("--set <FIELD=VALUE>")]
        [Description("Set any config field, e.g. --set weight_density=0.05 --set model.d_model=256. Repeatable.")]
        public string[] Set { get; init; } = [];

        [CommandOption("--data <DIR>")]
        [Description("Token shard directory (from `circuits corpus tokenize`). Default: with --resume the run's own shards (its manifest), else " + DefaultData + ".")]
        public string? Data { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Run directory (config, checkpoints, metrics). Default runs/train-<preset>[[-dense]].")]
        public string? Out { get; init; }

        [CommandOption("--seed <S>")]
        [Description("Seed for initialisation and batch sampling.")]
        public ulong? Seed { get; init; }

        [CommandOption("--dense")]
        [Description("Dense baseline: no weight projection, everything else the same.")]
        public bool Dense { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        string outDir = OutputPath.CheckDirectory(settings.Out ?? Path.Combine("runs", $"train-{settings.Preset}" + (settings.Dense ? "-dense" : "")));
        var run = new RunDirectory(outDir);
        bool resuming = settings.Resume && run.HasRun;
        string data = settings.Data ?? (resuming ? run.ReadDataDir() : null) ?? DefaultData;
        TrainingConfig config = resuming && settings.Config is null
            ? ResumedConfig(run, settings) // exactly the config the run started with
            : BuildConfig(settings, data);
        Console.WriteLine(Json.Serialize(config));
        AnsiConsole.MarkupLine($"[bold]{config.Preset}[/]: {config.Model.ParameterCount():N0} params, " +
                               $"{(config.Dense ? "dense" : $"weight density {config.WeightDensity}, embeddings {config.EmbeddingDensity}")}, " +
                               $"{config.Steps:N0} steps x {config.TokensPerStep:N0} tokens");

        var request = new TrainingRequest(config, data, outDir, settings.Resume, settings.StopAfter,
            "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        var result = ConsoleProgress.Run(settings, progress => Trainer.Run(request, progress, cancellation));

        if (result.ValLoss is null) Console.WriteLine($"step {result.Step}: the run had already reached its {config.Steps:N0} steps; nothing was trained");
        else
            Console.WriteLine($"step {result.Step}: val loss {result.ValLoss:0.0000} nats/token (unigram baseline {result.UnigramValLoss:0.0000}); " +
                              $"{result.TokensPerSecond:N0} tokens/s; {result.Elapsed:hh\\:mm\\:ss}");
        Console.WriteLine($"run: {Path.GetFullPath(outDir)}");
        return 0;
    }

    /// <summary>
    /// The run's own config, with any --set, --seed, --max-steps or --dense applied on top so the
    /// trainer refuses a change instead of the option being dropped without a word.
    /// </summary>
    static TrainingConfig ResumedConfig(RunDirectory run, Settings settings) =>
        WithOptions(ConfigLoader.Load(run.ReadConfig(), jsonFile: null, settings.Set), settings);

    /// <summary>--seed, --max-steps, --init and --dense on top of a config.</summary>
    static TrainingConfig WithOptions(TrainingConfig config, Settings settings)
    {
        config = settings.WithRunOptions(config, settings.Seed);
        return settings.Dense ? config with { Dense = true } : config;
    }

    static TrainingConfig BuildConfig(Settings settings, string data)
    {
        int vocab = ShardManifest.Load(data).VocabSize;
        return WithOptions(ConfigLoader.Load(TrainingPresets.ForThisMachine(settings.Preset, vocab), settings.Config, settings.Set), settings).Validate();
    }
}

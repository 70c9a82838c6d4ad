using System.ComponentModel;
using SparseCircuits.Bridges;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits bridges train</c>: a weight-sparse model and bridges trained next to a frozen dense run.</summary>
public sealed class BridgesTrainCommand : Command<BridgesTrainCommand.Settings>
{
    public sealed class Settings : TrainingRunSettings
    {
        [CommandOption("--dense <RUN>")]
        [Description("The dense run to explain (from `circuits train --dense`); frozen. On --resume, default: the run's own.")]
        public string? Dense { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Run directory of the sparse model and its bridges.")]
        public string Out { get; init; } = "";

        [CommandOption("--preset <NAME>")]
        [Description("Preset of the sparse model: tiny | small | base (n_layer must match the dense model).")]
        [DefaultValue("small")]
        public string Preset { get; init; } = "small";

        [CommandOption("--config <FILE>")]
        [Description("JSON file with training config fields laid over the preset.")]
        public string? Config { get; init; }

        [CommandOption("--set <FIELD=VALUE>")]
        [Description("Set a training config field (--set weight_density=0.05) or a bridge field (--set bridges.nmse_weight=0.5; " +
                     "bridges.kl_dense_to_sparse_weight, bridges.kl_sparse_to_dense_weight, bridges.encoder_top_k). Repeatable.")]
        public string[] Set { get; init; } = [];

        [CommandOption("--data <DIR>")]
        [Description("Token shards (default: the ones the dense run was trained on; on --resume the run's own).")]
        public string? Data { get; init; }

        [CommandOption("--seed <S>")]
        [Description("Seed for initialisation (model and bridges) and batch sampling.")]
        public ulong? Seed { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("--out is required")
            : Dense is null && !Resume ? ValidationResult.Error("--dense is required")
            : base.Validate();
    }

    const string BridgePrefix = "bridges.";

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        string outDir = OutputPath.CheckDirectory(settings.Out);
        var run = new RunDirectory(Path.GetFullPath(outDir));
        BridgeRunInfo? existing = settings.Resume ? BridgeRunInfo.TryLoad(run.Path) : null;
        string denseRun = settings.Dense ?? existing?.DenseRun
            ?? throw new SparseCircuitsException($"--resume: {run.Path} holds no bridged run; give --dense to start one");
        // On resume the run's own shards (its manifest), else the dense run's.
        string data = settings.Data ?? (existing is not null ? run.ReadDataDir() : null) ?? DenseDataDir(denseRun);
        var trainingSets = settings.Set.Where(s => !s.StartsWith(BridgePrefix, StringComparison.Ordinal)).ToList();
        var bridgeSets = settings.Set.Where(s => s.StartsWith(BridgePrefix, StringComparison.Ordinal)).Select(s => s[BridgePrefix.Length..]).ToList();

        bool fromRun = settings.Resume && settings.Config is null && trainingSets.Count == 0 && run.HasRun;
        TrainingConfig config = fromRun ? run.ReadConfig() : BuildConfig(settings, data, trainingSets); // resume with exactly the config the run started with
        BridgeConfig bridges = ConfigLoader.Load(existing is not null && bridgeSets.Count == 0 ? existing.Config : new BridgeConfig(), (string?)null, bridgeSets).Validate();
        Console.WriteLine(Json.Serialize(config));
        Console.WriteLine(Json.Serialize(bridges));
        AnsiConsole.MarkupLine($"[bold]{config.Preset}[/] + bridges to {Markup.Escape(Path.GetFullPath(denseRun))}: {config.Model.ParameterCount():N0} params, " +
                               $"weight density {config.WeightDensity}, {config.Steps:N0} steps x {config.TokensPerStep:N0} tokens");

        var request = new BridgeTrainingRequest(config, bridges, denseRun, data, outDir, settings.Resume, settings.StopAfter,
            "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        var result = ConsoleProgress.Run(settings, progress => BridgeTraining.Run(request, progress, cancellation));
        if (result.ValLoss is null) Console.WriteLine($"step {result.Step}: the run had already reached its {config.Steps:N0} steps; nothing was trained");
        else
            Console.WriteLine($"step {result.Step}: sparse val loss {result.ValLoss:0.0000} nats/token (unigram baseline {result.UnigramValLoss:0.0000}); " +
                              $"{result.TokensPerSecond:N0} tokens/s; {result.Elapsed:hh\\:mm\\:ss}");
        Console.WriteLine($"run: {run.Path}");
        return 0;
    }

    /// <summary>The shards the dense run was trained on, from its manifest.</summary>
    static string DenseDataDir(string denseRun)
    {
        var dense = new RunDirectory(Path.GetFullPath(denseRun));
        dense.ReadConfig();
        return dense.ReadDataDir() ?? throw new SparseCircuitsException($"{dense.Path} names no token shards; pass --data");
    }

    static TrainingConfig BuildConfig(Settings settings, string data, IReadOnlyList<string> sets)
    {
        int vocab = ShardManifest.Load(data).VocabSize;
        // One stream: the bridged step runs as one pass (BridgeObjective).
        TrainingConfig preset = TrainingPresets.ForThisMachine(settings.Preset, vocab) with { Streams = 1 };
        TrainingConfig config = ConfigLoader.Load(preset, settings.Config, sets);
        config = settings.WithRunOptions(config, settings.Seed);
        if (config.Dense) throw new SparseCircuitsException("bridges train trains a weight-sparse model; dense: true is not allowed");
        return config.Validate();
    }
}

using System.ComponentModel;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Training;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits means</c>: the mean activation of every node over held-out text, stored next to the model.</summary>
public sealed class MeansCommand : Command<MeansCommand.Settings>
{
    public sealed class Settings : TrainedModelSettings
    {
        [CommandOption("--tokens <N>")]
        [Description("Average over the first N tokens of the val split.")]
        [DefaultValue(MeanCache.DefaultTokens)]
        public long Tokens { get; init; } = MeanCache.DefaultTokens;

        [CommandOption("--data <DIR>")]
        [Description("Shard directory (default: the one the run was trained on).")]
        public string? Data { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        using var trained = TrainedModel.Load(settings.Model, settings.Checkpoint);
        MeanCacheInfo info = ConsoleProgress.Run(settings, progress => MeanCache.Build(trained, settings.Data, settings.Tokens, progress));
        Console.WriteLine($"means of {new NodeSpace(trained.Model.Config).Count:N0} nodes over {info.Tokens:N0} tokens of {info.Split} " +
                          $"for {info.Model.Checkpoint} -> {MeanCache.Directory(trained.Run.Path)}");
        return 0;
    }
}

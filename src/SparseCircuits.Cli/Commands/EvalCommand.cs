using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits eval</c>: loss in nats/token and bits/byte on a shard split, or the repeated-random-tokens induction check.</summary>
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : TrainedModelSettings
    {
        [CommandOption("--split <val|test>")]
        [DefaultValue(CorpusSplit.Val)]
        public CorpusSplit Split { get; init; } = CorpusSplit.Val;

        [CommandOption("--part <all|real|synthetic>")]
        [Description("Only the real files or only the generated programs of the split (corpora built with --synthetic).")]
        [DefaultValue(CorpusPart.All)]
        public CorpusPart Part { get; init; } = CorpusPart.All;

        [CommandOption("--data <DIR>")]
        [Description("Shard directory (default: the one the run was trained on).")]
        public string? Data { get; init; }

        [CommandOption("--tokens <N>")]
        [Description("Evaluate at most N predicted tokens (default: the whole split).")]
        public long? Tokens { get; init; }


        [CommandOption("--repeated-tokens")]
        [Description("Instead of a split: 64 sequences of 64 random tokens shown twice; loss on each copy and the induction gain (no data needed).")]
        public bool RepeatedTokens { get; init; }

        [CommandOption("--json")]
        [Description("Print the result as JSON.")]
        public bool Json { get; init; }
    }

    public sealed record Report(string Model, long Step, string Split, long Tokens, double LossNats, double? BitsPerByte, double UnigramLossNats);

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.Tokens is < 1) throw new SparseCircuitsException($"--tokens must be >= 1 (got {settings.Tokens})");
        using var trained = TrainedModel.Load(settings.Model, settings.Checkpoint);
        if (settings.RepeatedTokens) return RepeatedTokens(trained, settings.Json);
        var (shards, data) = trained.Shards(settings.Data);
        using var shard = shards.Open(data, settings.Split, settings.Part);
        using var train = shards.Open(data, CorpusSplit.Train);
        long maxTokens = settings.Tokens ?? long.MaxValue;
        int T = trained.Config.Model.NCtx;
        var result = ConsoleProgress.Run(settings, progress =>
        {
            using var bar = progress.Start($"evaluating {ShardManifest.Key(settings.Split, settings.Part)}", Math.Min(maxTokens, shard.Length), "tokens");
            return LanguageModelEval.Loss(trained.Model, shard, maxTokens, bytesOfToken: trained.TokenByteLengths(), progress: bar);
        });
        if (!double.IsFinite(result.LossNats))
            throw new SparseCircuitsException($"the loss of {trained.CheckpointDir} is {result.LossNats}: the checkpoint holds non-finite weights or activations");
        double unigram = LanguageModelEval.UnigramBaseline(train, shard, trained.Config.Model.VocabSize, T, maxTokens);
        var report = new Report(trained.CheckpointDir, trained.Step, ShardManifest.Key(settings.Split, settings.Part), result.Tokens,
            result.LossNats, result.BitsPerByte, unigram);
        if (settings.Json) Console.WriteLine(Core.Json.Serialize(report));
        else
            Console.WriteLine($"{report.Split}: {report.LossNats:0.0000} nats/token, {report.BitsPerByte:0.0000} bits/byte over {report.Tokens:N0} tokens " +
                              $"(unigram baseline {report.UnigramLossNats:0.0000} nats/token) — step {report.Step}");
        return 0;
    }

    public sealed record RepeatedTokensReport(string Model, long Step, int Sequences, int Length, double FirstCopyLossNats, double SecondCopyLossNats,
        double InductionGainNats);

    static int RepeatedTokens(TrainedModel trained, bool json)
    {
        var r = RepeatedTokensEval.Measure(trained.Model, length: RepeatedTokensEval.DefaultLength(trained.Config.Model.NCtx));
        var report = new RepeatedTokensReport(trained.CheckpointDir, trained.Step, r.Sequences, r.Length, r.FirstCopyLoss, r.SecondCopyLoss, r.InductionGain);
        if (json) Console.WriteLine(Core.Json.Serialize(report));
        else
            Console.WriteLine($"repeated random tokens ({r.Sequences} x {r.Length}, twice): first copy {r.FirstCopyLoss:0.000}, second copy {r.SecondCopyLoss:0.000} nats/token, " +
                              $"induction gain {r.InductionGain:0.000} — step {trained.Step}");
        return 0;
    }
}

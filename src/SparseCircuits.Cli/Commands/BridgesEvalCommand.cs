using System.ComponentModel;
using SparseCircuits.Bridges;
using SparseCircuits.Core;
using SparseCircuits.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits bridges eval RUN</c>: per bridge site, NMSE both ways, KL and next-token loss of both hybrids.</summary>
public sealed class BridgesEvalCommand : Command<BridgesEvalCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("A bridged run (from `circuits bridges train`).")]
        public string Run { get; init; } = "";

        [CommandOption("--split <val|test>")]
        [DefaultValue(CorpusSplit.Val)]
        public CorpusSplit Split { get; init; } = CorpusSplit.Val;

        [CommandOption("--tokens <N>")]
        [Description("Predicted tokens to measure on (the first windows of the split).")]
        [DefaultValue(16384L)]
        public long Tokens { get; init; } = 16384;

        [CommandOption("--json")]
        [Description("Print the result as JSON (split, tokens, dense_loss, sparse_loss, sites).")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.Tokens < 1) throw new SparseCircuitsException($"--tokens must be >= 1 (got {settings.Tokens})");
        using var pair = BridgedPair.Load(settings.Run);
        BridgeEvaluation result = ConsoleProgress.Run(settings, progress =>
        {
            using var bar = progress.Start("measuring bridges", settings.Tokens, "tokens");
            return BridgeEvaluation.Measure(pair, null, settings.Split, settings.Tokens, progress: bar);
        });
        result.Save(pair.Sparse.Run.Path);
        if (settings.Json)
        {
            Console.WriteLine(Core.Json.Serialize(result));
            return 0;
        }
        var table = new Table().AddColumns("site", "NMSE d→s", "NMSE s→d", "KL d→s", "KL s→d", "loss d→s", "loss s→d");
        foreach (BridgeSiteQuality s in result.Sites)
            table.AddRow(s.Site, F(s.NmseEncoder), F(s.NmseDecoder), F(s.KlDenseToSparse), F(s.KlSparseToDense), F(s.LossDenseToSparse), F(s.LossSparseToDense));
        AnsiConsole.Write(table);
        Console.WriteLine($"{result.Split}, {result.Tokens:N0} tokens: dense model {F(result.DenseLoss)} nats/token, sparse model {F(result.SparseLoss)}. " +
                          "d→s: dense residual encoded and run through the sparse model's tail; s→d: sparse residual decoded and run through the dense model's tail; KL from the dense model's logits.");
        Console.WriteLine($"saved: {Path.Combine(pair.Sparse.Run.Path, BridgeEvaluation.FileName)}");
        return 0;
    }

    static string F(double v) => v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}

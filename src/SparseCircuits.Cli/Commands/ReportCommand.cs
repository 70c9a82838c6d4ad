using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Frontier;
using SparseCircuits.Reports;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary>Options shared by <c>circuits report</c> and <c>circuits serve</c>: which model, which circuits, how much text to profile.</summary>
public class ReportSettings : TrainedModelSettings
{
    [CommandOption("--circuits <DIR>")]
    [Description("Circuits directory (summary.json and NAME/circuit.json). Default: the model's sibling circuits/ from `circuits run`.")]
    public string? Circuits { get; init; }

    [CommandOption("--profile-tokens <N>")]
    [Description("Validation tokens scanned for each node's activation quantiles and snippets.")]
    [DefaultValue(32_768L)]
    public long ProfileTokens { get; init; } = 32_768;

    [CommandOption("--data <DIR>")]
    [Description("Shard directory whose val split is profiled (default: the one the run was trained on).")]
    public string? Data { get; init; }

    [CommandOption("--sweep <DIR>")]
    [Description("A finished sweep directory (`circuits sweep`): adds the frontier page with its table and plots.")]
    public string? Sweep { get; init; }

    public ReportData Build(GlobalSettings settings)
    {
        var options = new ReportOptions { ModelDir = Model, CircuitsDir = Circuits, ShardsDir = Data, Checkpoint = Checkpoint, ProfileTokens = ProfileTokens }.Validate();
        ReportData data = ConsoleProgress.Run(settings, progress => ReportBuilder.Build(options, progress));
        return Sweep is null ? data : data with { Frontier = FrontierReportPage.Build(Sweep) };
    }
}

/// <summary><c>circuits report</c>: one self-contained HTML file showing a model and its circuits.</summary>
public sealed class ReportCommand : Command<ReportCommand.Settings>
{
    public sealed class Settings : ReportSettings
    {
        [CommandOption("--out <FILE>")]
        [Description("The HTML file to write (atomically).")]
        [DefaultValue("report.html")]
        public string Out { get; init; } = "report.html";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        Core.OutputPath.CheckFile(settings.Out);
        ReportData data = settings.Build(settings);
        ReportHtml.Write(data, settings.Out);
        Console.WriteLine($"report: {Path.GetFullPath(settings.Out)} ({new FileInfo(settings.Out).Length / 1024.0 / 1024.0:0.0} MB; " +
                          $"{data.Circuits.Count} circuits, {data.NodeProfiles.Count} node profiles)");
        return 0;
    }
}

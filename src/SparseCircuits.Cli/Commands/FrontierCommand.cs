using System.ComponentModel;
using SparseCircuits.Frontier;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits frontier DIR [DIR...]</c>: the sweep's (or pooled sweeps') table, plots and sparse-vs-dense comparison.</summary>
public sealed class FrontierCommand : Command<FrontierCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<SWEEP_DIR>")]
        [Description("Directory of a sweep (written by `circuits sweep`); several are pooled into one table (same tasks and target, distinct model names).")]
        public string[] Sweeps { get; init; } = [];

        [CommandOption("--out <DIR>")]
        [Description("Where to write table.csv/json, comparison.json and the plots (default SWEEP_DIR/frontier; required when pooling).")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.Out is not null) Core.OutputPath.CheckDirectory(settings.Out);
        FrontierResult result = SweepFrontier.Write(settings.Sweeps, settings.Out);
        FrontierTable t = result.Table;
        var table = new Table().AddColumns("model", "width", "density", "params", "nonzeros", "val loss", "geomean edges", "unsolved");
        foreach (FrontierRow r in t.Rows)
            table.AddRow(Markup.Escape(r.Name), $"{r.Width}", r.Dense ? "dense" : $"{r.WeightDensity:0.###}", $"{r.Parameters:N0}", $"{r.Nonzeros:N0}",
                $"{r.ValLoss:0.000}", r.GeometricMeanEdges is double g ? $"{g:0.0}" : "-", Markup.Escape(string.Join(", ", r.Unsolved)));
        AnsiConsole.Write(table);
        if (t.MissingJobs.Count > 0) Console.WriteLine($"not finished yet (left out): {string.Join(", ", t.MissingJobs)}");
        foreach (var p in result.Comparison.Pairs)
            Console.WriteLine(p.Ratio is double ratio
                ? $"{p.Sparse}: val {p.SparseValLoss:0.000}, {p.SparseEdges:0.0} edges vs dense {p.DenseEdgesAtLoss:0.0} at that loss: ratio {ratio:0.00}"
                : $"{p.Sparse}: no ratio ({p.Note})");
        foreach (var p in result.Comparison.PerTask.Where(p => p.Ratio is not null))
            Console.WriteLine($"{p.Task} on {p.Sparse}: {p.SparseEdges:0.#} edges vs dense {p.DenseEdgesAtLoss:0.0} at val {p.SparseValLoss:0.000}: ratio {p.Ratio:0.00}");
        Console.WriteLine(result.Comparison.Summary);
        foreach (string file in result.Files) Console.WriteLine($"wrote {file}");
        return 0;
    }
}

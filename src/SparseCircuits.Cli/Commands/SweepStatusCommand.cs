using System.ComponentModel;
using SparseCircuits.Slurm;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits sweep status DIR</c>: every job of a sweep, from its directory joined with Slurm's queue and records.</summary>
public sealed class SweepStatusCommand : Command<SweepStatusCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<SWEEP_DIR>")]
        [Description("Directory of a sweep (local or submitted with --scheduler slurm).")]
        public string Sweep { get; init; } = "";

        [CommandOption("--json")]
        [Description("Print the status as one JSON document (rows: name, files, phase, slurm_id, slurm_state, log; notes).")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        SlurmSweepStatus status = SlurmSweepStatus.Read(settings.Sweep, new SlurmCommands());
        if (settings.Json)
        {
            Console.WriteLine(Core.Json.Serialize(new { Format = 1, Sweep = status.Root, status.Data, status.Jobs, status.Frontier, status.Notes }));
            return 0;
        }
        var table = new Table().AddColumns("job", "files", "state", "slurm");
        foreach (SlurmJobStatus row in status.All)
            table.AddRow(Markup.Escape(row.Name), row.Files, Phase(row.Phase), Markup.Escape(string.Join(' ', new[] { row.SlurmId, row.SlurmState }.OfType<string>())));
        AnsiConsole.Write(table);
        // Log paths are long: below the table, where they are not wrapped.
        foreach (SlurmJobStatus row in status.All.Where(r => r.Log is not null && r.Phase is not SweepJobPhase.Finished))
            Console.WriteLine($"log of {row.Name}: {row.Log}");
        foreach (string note in status.Notes) Console.WriteLine($"note: {note}");
        var counts = status.Jobs.GroupBy(j => j.Phase).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Phase(g.Key)}");
        Console.WriteLine($"{status.Jobs.Count} jobs: {string.Join(", ", counts)}; data {Phase(status.Data.Phase)}, frontier {Phase(status.Frontier.Phase)}");
        if (status.All.Any(r => r.Phase is SweepJobPhase.Failed or SweepJobPhase.Stuck) && status.All.Any(r => r.SlurmId is not null))
            Console.WriteLine($"next: circuits sweep --resubmit-failed {status.Root}");
        return 0;
    }

    static string Phase(SweepJobPhase phase) => phase switch
    {
        SweepJobPhase.NotSubmitted => "not submitted",
        _ => phase.ToString().ToLowerInvariant(),
    };
}

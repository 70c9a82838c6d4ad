using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Reports;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits serve</c>: the report's pages over HTTP on 127.0.0.1 only, until Ctrl+C.</summary>
public sealed class ServeCommand : Command<ServeCommand.Settings>
{
    public sealed class Settings : ReportSettings
    {
        [CommandOption("--port <N>")]
        [Description("TCP port on 127.0.0.1 (0 = any free port).")]
        [DefaultValue(8000)]
        public int Port { get; init; } = 8000;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.Port is < 0 or > 65535) throw new SparseCircuitsException($"--port must be 0..65535; got {settings.Port}");
        ReportData data = settings.Build(settings);
        using var server = ReportServer.ForReport(data, settings.Port);
        Console.WriteLine($"serving {data.Title} on {server.Url} (127.0.0.1 only); Ctrl+C stops");
        server.RunAsync(cancellation).GetAwaiter().GetResult();
        Console.WriteLine("stopped");
        return 0;
    }
}

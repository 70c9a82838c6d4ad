using System.ComponentModel;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits show</c>: the summary, nodes and edges of a circuit.json.</summary>
public sealed class ShowCommand : Command<ShowCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--circuit <PATH>")]
        [Description("circuit.json, or the directory holding it.")]
        public string Circuit { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(settings.Circuit)) throw new SparseCircuitsException("--circuit is required");
        Circuit circuit = CircuitFile.Load(settings.Circuit);
        CircuitSummary.Print(circuit);
        Console.WriteLine("nodes:");
        foreach (CircuitNode n in circuit.Nodes)
            Console.WriteLine($"  {n.Id,-24}{(n.Head is int h ? $" head {h}" : ""),-8} mean {n.Mean,10:0.0000}  score {n.Score:0.0000}");
        Console.WriteLine("edges:");
        foreach (CircuitEdge e in circuit.Edges)
            Console.WriteLine($"  {e.Source} -> {e.Target}  {e.Kind} {e.Weight:0.0000}{(e.Parameter is null ? "" : $"  {e.Parameter}[{string.Join(", ", e.ParameterIndex ?? [])}]")}");
        return 0;
    }
}

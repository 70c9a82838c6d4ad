using System.ComponentModel;
using SparseCircuits.Bridges;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Tasks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits bridges steer RUN --task NAME --node NODE</c>: steer the dense model through one sparse circuit node.</summary>
public sealed class BridgesSteerCommand : Command<BridgesSteerCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("A bridged run (from `circuits bridges train`).")]
        public string Run { get; init; } = "";

        [CommandOption("--task <NAME>")]
        [Description("A built-in task (circuits tasks list).")]
        public string Task { get; init; } = "";

        [CommandOption("--node <NODE>")]
        [Description("A node of the task's circuit that reads the residual: L.attn.act_in[[c]] or L.mlp.act_in[[c]], e.g. 2.mlp.act_in[[17]].")]
        public string Node { get; init; } = "";

        [CommandOption("--circuit <FILE>")]
        [Description("The circuit.json the node must belong to (default: RUN/circuits/TASK/circuit.json).")]
        public string? Circuit { get; init; }

        [CommandOption("--strengths <LIST>")]
        [Description("Comma-separated strengths.")]
        [DefaultValue("0,0.25,0.5,0.75,1")]
        public string Strengths { get; init; } = "0,0.25,0.5,0.75,1";

        [CommandOption("--controls <N>")]
        [Description("Random channels of the same site, outside the circuit, steered the same way as the control.")]
        [DefaultValue(8)]
        public int Controls { get; init; } = 8;

        [CommandOption("--pairs <N>")]
        [Description("Test-split contrast pairs to draw (pairs whose prompts differ in token length are skipped; each pair is steered both ways).")]
        [DefaultValue(100)]
        public int Pairs { get; init; } = 100;

        [CommandOption("--seed <S>")]
        [Description("Seed of the task's pairs and of the control channels.")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption("--json")]
        [Description("Print the result as JSON (the content of the saved steer-*.json).")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Task) ? ValidationResult.Error("--task is required")
            : string.IsNullOrWhiteSpace(Node) ? ValidationResult.Error("--node is required")
            : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        ContrastTask task = TaskRegistry.Get(settings.Task);
        IReadOnlyList<double> strengths = ParseStrengths(settings.Strengths);
        if (settings.Controls < 0) throw new SparseCircuitsException($"--controls must be >= 0 (got {settings.Controls})");
        if (settings.Pairs < 1) throw new SparseCircuitsException($"--pairs must be >= 1 (got {settings.Pairs})");
        using var pair = BridgedPair.Load(settings.Run);
        string circuitPath = settings.Circuit ?? Path.Combine(pair.Sparse.Run.Path, "circuits", task.Name, CircuitFile.FileName);
        if (!File.Exists(circuitPath) && !Directory.Exists(circuitPath))
            throw new SparseCircuitsException($"no circuit at {circuitPath}; prune the task on the sparse model first (circuits prune --model {pair.Sparse.Run.Path} --task {task.Name} --out {Path.GetDirectoryName(circuitPath)}) or pass --circuit");
        Circuit circuit = CircuitFile.Load(circuitPath);
        if (circuit.Task.Name != task.Name)
            throw new SparseCircuitsException($"{circuitPath} is a circuit of task {circuit.Task.Name}, not {task.Name}");
        NodeId node = BridgeSteering.CircuitNode(CircuitFile.NodeIds(circuit).ToList(), circuit.Task.Name, settings.Node);
        if (node.Layer >= pair.Sparse.Config.Model.NLayer || node.Index >= pair.Sparse.Config.Model.DModel)
            throw new SparseCircuitsException($"node {node} is outside the sparse model ({pair.Sparse.Config.Model.NLayer} layers, d_model {pair.Sparse.Config.Model.DModel})");

        var data = TaskDataset.FromTask(task, pair.Sparse.Tokenizer, TaskSplit.Test, settings.Pairs, settings.Seed,
            new TaskDatasetOptions { MaxPromptTokens = pair.Sparse.Config.Model.NCtx });
        if (!data.Available) throw new SparseCircuitsException($"task {task.Name} is unavailable with this tokenizer: {data.UnavailableReason}");
        var prompts = BridgeSteering.Prompts(data);
        string site = BridgeSites.Of(node);
        var inCircuit = CircuitFile.NodeIds(circuit).Where(n => n.Location == node.Location && n.Layer == node.Layer).Select(n => n.Index).ToHashSet();
        var controls = BridgeSteering.ControlChannels(pair.Sparse.Config.Model.DModel, inCircuit, settings.Controls, settings.Seed);
        SteeringResult result = ConsoleProgress.Run(settings, progress =>
        {
            using var bar = progress.Start("steering", 2, "stages");
            double ratio = BridgeSteering.RmsRatio(pair, site);
            bar.Advance(1);
            cancellation.ThrowIfCancellationRequested();
            var steered = BridgeSteering.Run(pair, task.Name, node, prompts, strengths, controls, ratio);
            bar.Advance(1);
            return steered;
        });
        string stem = SteeringPlot.Save(pair.Sparse.Run.Path, result);
        if (settings.Json)
        {
            Console.WriteLine(Core.Json.Serialize(result));
            return 0;
        }
        var table = new Table().AddColumn("strength").AddColumn($"node {Markup.Escape(result.Node)}").AddColumn("controls mean").AddColumn("controls min-max");
        for (int k = 0; k < result.Strengths.Count; k++)
        {
            var controlValues = result.Controls.Select(c => c.CounterfactualProbability[k]).ToList();
            table.AddRow(SteeringPlot.Num(result.Strengths[k]), P(result.Steered.CounterfactualProbability[k]),
                controlValues.Count == 0 ? "-" : P(controlValues.Average()),
                controlValues.Count == 0 ? "-" : $"{P(controlValues.Min())}-{P(controlValues.Max())}");
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"P(counterfactual answer) of the dense model on {result.Prompts} prompts of {task.Name}; steered at {result.Site} " +
                          $"(RMS ratio dense/sparse {result.RmsRatio:0.000}); on the counterfactual prompts themselves: {P(result.DenseOnCounterfactual)}");
        Console.WriteLine($"saved: {stem}.{{json,png,svg}}");
        return 0;
    }

    static IReadOnlyList<double> ParseStrengths(string text)
    {
        var values = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new SparseCircuitsException($"--strengths must be comma-separated numbers like 0,0.5,1 (got '{part}')");
            values.Add(v);
        }
        return values;
    }

    static string P(double v) => v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}

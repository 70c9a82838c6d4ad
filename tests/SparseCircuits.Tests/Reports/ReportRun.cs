using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Reports;

/// <summary>
/// A tiny trained run in the <c>circuits run</c> layout (<c>runs/demo/{model,circuits}</c>) with its
/// mean cache and a circuits directory: <c>summary.json</c> with a pruned and an unpruned row,
/// <c>quotes/</c> (a custom-file task, nodes hand-picked to cover every layout row and a q/k pair)
/// and <c>lost/</c> (the same circuit whose task file no longer exists).
/// </summary>
public sealed class ReportRun : IDisposable
{
    readonly SyntheticData _data = new();
    readonly TempDir _dir = new();

    public string ModelDir => _dir["runs/demo/model"];
    public string CircuitsDir => _dir["runs/demo/circuits"];
    public string ShardDir => _data.ShardDir;
    public string TaskFile { get; }
    public Circuit Quotes { get; }

    public static readonly NodeId[] Nodes =
    [
        new(0, NodeLocation.AttnActIn, 3), new(0, NodeLocation.AttnQ, 1), new(0, NodeLocation.AttnK, 1), new(0, NodeLocation.AttnK, 2),
        new(0, NodeLocation.AttnV, 17), new(0, NodeLocation.AttnResidDelta, 5), new(0, NodeLocation.MlpActIn, 5), new(0, NodeLocation.MlpPostAct, 7),
        new(1, NodeLocation.AttnQ, 20), new(1, NodeLocation.MlpResidDelta, 3),
    ];

    public ReportRun()
    {
        var model = ModelPresets.Get("tiny", _data.VocabSize) with { NCtx = 32 };
        var config = TrainingPresets.Get("tiny", _data.VocabSize) with
        {
            Steps = 20, BatchSize = 4, LogInterval = 1, EvalInterval = 10, CheckpointInterval = 10, EvalTokens = 512, Model = model,
        };
        Trainer.Run(new TrainingRequest(config, _data.ShardDir, ModelDir), NullProgress.Instance);
        TaskFile = _dir.Write("quotes.jsonl", string.Join("\n", Enumerable.Range(0, 24).Select(i =>
            $$"""{"positive": "xs = 'a{{(char)('a' + i % 8)}}{{(char)('a' + i / 8)}}", "negative": "xs = \"a{{(char)('a' + i % 8)}}{{(char)('a' + i / 8)}}", "tok": "'", "alt": "\""}""")));

        using var trained = TrainedModel.Load(ModelDir);
        MeanCache.Build(trained, null, 1024, NullProgress.Instance);
        using var means = MeanCache.Load(ModelReference.Of(trained));
        BinaryTask task = TaskSource.FromFile(TaskFile, trained.Tokenizer, 0, new TaskDatasetOptions { MaxPromptTokens = model.NCtx });
        Circuit pruned = CircuitPruning.Run(trained.Model, means, task, new PruningConfig { TargetLoss = 5, Steps = 3, Runs = 1, ControlSets = 2 },
            NullProgress.Instance, ModelReference.Of(trained), TaskFile);
        Quotes = WithNodes(pruned, trained.Model, means, Nodes);
        CircuitFile.Save(Path.Combine(CircuitsDir, "quotes", CircuitFile.FileName), Quotes);
        CircuitFile.Save(Path.Combine(CircuitsDir, "lost", CircuitFile.FileName),
            Quotes with { Task = Quotes.Task with { Source = _dir["deleted.jsonl"] } });
        new TaskSuiteSummary(1, 5, [TaskSuiteSummary.Row(Quotes, "quotes/circuit.json"),
            new TaskSummaryRow("bracket_counting", false, null, null, null, null, null, null, "task bracket_counting is unavailable with this tokenizer")])
            .Save(Path.Combine(CircuitsDir, TaskSuiteSummary.FileName));
    }

    /// <summary>A circuit with exactly <paramref name="nodes"/> kept: its nodes, means and edges recomputed from the model.</summary>
    public static Circuit WithNodes(Circuit circuit, SparseGpt model, MeanActivations means, IReadOnlyList<NodeId> nodes)
    {
        var space = new NodeSpace(model.Config);
        float[] meanValues = means.Flat(space);
        var edges = CircuitGraph.Edges(model, nodes);
        return circuit with
        {
            Nodes = nodes.Select(n => new CircuitNode(n.ToString(), n.Layer, n.Location.Site(), n.Index, n.Head(model.Config.DHead),
                meanValues[space.IndexOf(n)], 0.5)).ToList(),
            NodeCount = nodes.Count,
            Edges = edges,
            EdgeCount = CircuitGraph.PaperEdgeCount(edges),
            EdgeCountsByKind = edges.GroupBy(e => e.Kind).ToDictionary(g => g.Key, g => g.Count()),
        };
    }

    public string this[string relative] => _dir[relative];

    public void Dispose()
    {
        _dir.Dispose();
        _data.Dispose();
    }
}

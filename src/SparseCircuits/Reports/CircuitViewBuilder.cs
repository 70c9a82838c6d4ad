using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using SparseCircuits.Tasks;

namespace SparseCircuits.Reports;

/// <summary>
/// One circuit as the page draws it: the numbers stored in circuit.json (validation, loss curve,
/// edges, node means and scores) plus what only a forward pass gives, measured with the circuit's
/// own ablation kind on the first <see cref="ReportOptions.AblationPrompts"/> test prompts: per
/// node and per layer the loss when it is also ablated (<see cref="NodeAblationLosses"/>), task
/// activations (<see cref="TaskActivationProbe"/>) and rebuilt attention
/// (<see cref="AttentionRebuild"/>). Losses are uncalibrated, like circuit.json's validation.
/// </summary>
public static class CircuitViewBuilder
{
    public static CircuitView Build(TrainedModel trained, MeanActivations means, CatalogEntry entry, ReportOptions options,
        IReadOnlyList<string> tokenTexts, IProgressReporter progress)
    {
        Circuit circuit = entry.Circuit;
        SparseGpt model = trained.Model;
        ModelConfig config = model.Config;
        var nodes = CircuitFile.NodeIds(circuit);
        var notes = new List<string>();
        var rebuilt = CircuitTaskRebuild.Rebuild(circuit, trained.Tokenizer, config.NCtx);
        if (rebuilt.Problem is not null) notes.Add(rebuilt.Problem);

        NodeAblationLosses.Result? losses = null;
        IReadOnlyList<TaskActivations>? activations = null;
        IReadOnlyDictionary<(int Layer, int Head), AttentionView> attention = new Dictionary<(int, int), AttentionView>();
        int ablationPrompts = 0;
        IReadOnlyList<string> classNames = ["class 0", "class 1"];
        if (rebuilt.Task is { } task)
        {
            var prompts = task.Test.Take(options.AblationPrompts).ToList();
            ablationPrompts = prompts.Count;
            if (prompts.Count < task.Test.Count)
                notes.Add($"node and layer ablation losses and class means use the first {prompts.Count} of {task.Test.Count} test prompts");
            classNames = ClassNames(task.Test, tokenTexts);
            var space = new NodeSpace(config);
            using var ablation = new NodeAblation(space, means, circuit.Ablation);
            using var frozen = new FrozenWeights(model);
            using (var bar = progress.Start($"{entry.Id}: ablations", NodeAblationLosses.Evaluations(nodes), "evals"))
                losses = NodeAblationLosses.Measure(model, ablation, nodes, prompts, bar);
            activations = TaskActivationProbe.Probe(model, ablation, nodes, task.Test, options.PairsPerClass, options.AblationPrompts,
                options.PromptTokensShown, tokenTexts);
            attention = AttentionRebuild.ForCircuit(model, nodes, task.Test[0].PromptIds, tokenTexts, options.AttentionWindow);
        }

        var positions = CircuitLayout.Place(nodes, config.DHead);
        var views = nodes.Select((n, i) =>
        {
            CircuitNode stored = circuit.Nodes[i];
            return new NodeView
            {
                Id = stored.Id, Layer = n.Layer, Location = stored.Location, Index = n.Index, Head = n.Head(config.DHead),
                X = positions[n].X, Y = positions[n].Y, Mean = ReportNumbers.Value(stored.Mean), Score = ReportNumbers.Value(stored.Score),
                AblatedLoss = losses is null ? null : ReportNumbers.Value(losses.WithoutNode[i]),
                TaskActivations = activations?[i],
                Attention = n.Location is NodeLocation.AttnQ or NodeLocation.AttnK ? attention.GetValueOrDefault((n.Layer, n.Index / config.DHead)) : null,
            };
        }).ToList();
        var edges = circuit.Edges.Select(e => new EdgeView(e.Source, e.Target, e.Kind, ReportNumbers.Value(e.Weight))).ToList();
        var v = circuit.Validation;
        return new CircuitView
        {
            Id = entry.Id, Task = circuit.Task.Name, TaskSource = circuit.Task.Source, TargetLoss = circuit.TargetLoss,
            Method = circuit.Method == PruningMethod.LearnedMask ? "learned_mask" : "attribution",
            NodeCount = circuit.NodeCount, EdgeCount = circuit.EdgeCount, TotalNodes = circuit.Model.TotalNodes,
            Validation = new ValidationView(ReportNumbers.Value(v.FullModel.Loss), v.FullModel.Accuracy, ReportNumbers.Value(v.Sufficiency.Loss),
                v.Sufficiency.Accuracy, ReportNumbers.Value(v.Necessity.Loss), v.Necessity.Accuracy, ReportNumbers.Known(v.Control.LossMean),
                ReportNumbers.Known(v.Control.LossStd), ReportNumbers.Value(v.ZeroAblation.Sufficiency.Loss), ReportNumbers.Value(v.ZeroAblation.Necessity.Loss),
                v.FullModel.Prompts),
            LossCurve = circuit.LossCurve.Select(p => new LossCurveView(p.Nodes, ReportNumbers.Value(p.Loss), p.Accuracy, p.Edges))
                .Concat((circuit.Refinement?.Steps ?? []).Select(s => new LossCurveView(s.Nodes, ReportNumbers.Value(s.Loss), s.Accuracy, s.Edges, LossCurveView.Refined)))
                .ToList(),
            Layers = Enumerable.Range(0, config.NLayer).Select(layer => new LayerSummary(layer, nodes.Count(n => n.Layer == layer),
                losses is null ? null : ReportNumbers.Value(losses.WithoutLayer[layer] - losses.Reference))).ToList(),
            Nodes = views,
            Edges = edges,
            Rows = CircuitLayout.Rows(config.NLayer),
            MaxAbsWeight = edges.Count == 0 ? 0 : edges.Max(e => Math.Abs(e.Weight)),
            ClassNames = classNames,
            AblationPrompts = ablationPrompts,
            AblationReferenceLoss = losses is null ? null : ReportNumbers.Value(losses.Reference),
            Notes = notes,
        };
    }

    /// <summary>
    /// "answer X" per class when every pair of the split has the same answer tokens (e.g. the two
    /// quote characters), else a description of the class.
    /// </summary>
    public static IReadOnlyList<string> ClassNames(IReadOnlyList<TaskExample> prompts, IReadOnlyList<string> tokenTexts)
    {
        string Name(int parity, string fallback)
        {
            var answers = prompts.Where((_, i) => i % 2 == parity).Select(p => p.CorrectId).Distinct().ToList();
            return answers.Count == 1 ? $"answer {Quote(tokenTexts[answers[0]])}" : fallback;
        }
        return [Name(0, "answer: the pair's first token"), Name(1, "answer: the pair's second token")];
    }

    static string Quote(string token) => token.Contains('"') && !token.Contains('\'') ? $"'{token}'" : $"\"{token}\"";
}

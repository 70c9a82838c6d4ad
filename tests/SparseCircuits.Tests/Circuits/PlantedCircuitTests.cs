using SparseCircuits.Circuits;
using SparseCircuits.Core;
using Xunit.Abstractions;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The acceptance test: pruning a hand-built model recovers exactly its planted circuit.</summary>
public sealed class PlantedCircuitTests(ITestOutputHelper output)
{
    static PruningConfig Config(PruningMethod method = PruningMethod.LearnedMask, bool tieQk = false, AblationKind ablation = AblationKind.Mean) =>
        new() { Method = method, Steps = 200, Runs = 3, ControlSets = 5, TieQk = tieQk, Ablation = ablation };

    [Fact]
    public void The_planted_nodes_alone_solve_the_task_and_each_is_needed()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var task = PlantedModel.Task();
        double Loss(IEnumerable<NodeId> nodes)
        {
            using var scope = NewDisposeScope();
            return TaskEvaluator.Score(model, task.Val, ablation.Fixed(space.Selection(nodes))).Loss;
        }
        Assert.True(TaskEvaluator.Score(model, task.Val).Loss < 0.01);
        Assert.True(Loss(PlantedModel.Circuit) < 0.01, "the planted circuit alone");
        foreach (NodeId missing in PlantedModel.Circuit)
            Assert.True(Loss(PlantedModel.Circuit.Where(n => n != missing)) > 0.15, $"without {missing}");
    }

    [Fact]
    public void With_the_shortcut_a_task_answered_with_every_node_ablated_gets_the_empty_circuit_without_a_search()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var task = PlantedModel.Task();
        double allAblated;
        using (var ablation = new NodeAblation(new NodeSpace(model.Config), means, AblationKind.Mean))
        using (NewDisposeScope())
            allAblated = TaskEvaluator.Score(model, task.Val, ablation.Fixed(ablation.Space.Selection([]))).Loss;

        var shortcut = Config() with { TargetLoss = allAblated + 0.01, SkipSearchWhenEmptyReaches = true, Runs = 1, Steps = 20 };
        Circuit circuit = CircuitPruning.Run(model, means, task, shortcut, NullProgress.Instance);
        Assert.Equal(0, circuit.NodeCount);
        Assert.Empty(circuit.Search); // no mask run
        Assert.Null(circuit.Chosen);
        Assert.Equal(0, circuit.LossCurve[0].Units);
        Assert.Equal(allAblated, circuit.ValCircuit.Loss, 6);

        // Off (the library's default), the search runs anyway; just below that loss the nodes are needed again.
        Assert.Single(CircuitPruning.Run(model, means, task, shortcut with { SkipSearchWhenEmptyReaches = false }, NullProgress.Instance).Search);
        Circuit needed = CircuitPruning.Run(model, means, task, shortcut with { TargetLoss = allAblated - 0.01 }, NullProgress.Instance);
        Assert.Single(needed.Search);
        Assert.True(needed.NodeCount > 0);
    }

    [Theory]
    [InlineData(false, AblationKind.Mean)]
    [InlineData(true, AblationKind.Mean)]
    [Trait("Category", "Slow")]
    public void Learned_masks_recover_exactly_the_planted_circuit(bool tieQk, AblationKind ablation)
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        Circuit circuit = CircuitPruning.Run(model, means, PlantedModel.Task(), Config(tieQk: tieQk, ablation: ablation), NullProgress.Instance);
        output.WriteLine(string.Join(", ", circuit.Nodes.Select(n => $"{n.Id} tau {n.Score:0.000}")));
        output.WriteLine(string.Join(", ", circuit.LossCurve.Select(p => $"k {p.Units}: {p.Loss:0.000}")));

        Assert.Equal(PlantedModel.Circuit.Select(n => n.ToString()).Order(), circuit.Nodes.Select(n => n.Id).Order());
        Assert.Equal(PlantedModel.CircuitEdges, circuit.EdgeCount);
        Assert.All(circuit.Edges, e => Assert.Equal(CircuitGraph.Weight, e.Kind));
        Assert.True(circuit.Validation.Sufficiency.Loss <= 0.15);
        Assert.Equal(1.0, circuit.Validation.Sufficiency.Accuracy);
        Assert.True(circuit.Validation.Necessity.Loss > 0.5);
        Assert.True(circuit.Validation.Control.LossMean > 0.5);
        Assert.Equal(3, circuit.Search.Count);
        Assert.All(circuit.Search, run => Assert.Equal(4, run.Nodes));
        Assert.Equal(circuit.Nodes.Count, circuit.NodeCount);
    }

    [Fact]
    public void Attribution_ranks_the_planted_nodes_first()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        double[] scores = AttributionScores.Compute(model, ablation, PlantedModel.Task().Train);
        output.WriteLine(string.Join(", ", MaskUnits.Rank(scores).Take(8).Select(i => $"{space[i]} {scores[i]:0.000}")));
        int planted = PlantedModel.Circuit.Count();
        var top = MaskUnits.Rank(scores).Take(planted).Select(i => space[i].ToString()).Order();
        Assert.Equal(PlantedModel.Circuit.Select(n => n.ToString()).Order(), top);
        Assert.True(scores[MaskUnits.Rank(scores).ElementAt(planted - 1)] > scores[MaskUnits.Rank(scores).ElementAt(planted)], "a gap after the planted nodes");
        Circuit circuit = CircuitPruning.Run(model, means, PlantedModel.Task(), Config(PruningMethod.Attribution), NullProgress.Instance);
        Assert.Equal(PlantedModel.Circuit.Select(n => n.ToString()).Order(), circuit.Nodes.Select(n => n.Id).Order());
    }
}

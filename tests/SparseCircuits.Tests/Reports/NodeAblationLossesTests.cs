using SparseCircuits.Circuits;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Circuits;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Reports;

/// <summary>Node and layer ablation losses on the hand-built planted model (its 4-node circuit plus a distractor node).</summary>
public sealed class NodeAblationLossesTests
{
    [Fact]
    public void Each_loss_equals_an_independent_evaluation_with_fixed_ablation()
    {
        using var planted = new PlantedAblation();
        var (model, space, ablation) = (planted.Model, planted.Space, planted.Ablation);
        var prompts = PlantedModel.Task().Test;
        var circuit = PlantedModel.Circuit.Append(new NodeId(0, NodeLocation.MlpPostAct, 2)).ToList(); // + a distractor neuron

        var result = NodeAblationLosses.Measure(model, ablation, circuit, prompts);

        double Independent(IEnumerable<NodeId> kept)
        {
            using var scope = NewDisposeScope();
            return TaskEvaluator.Score(model, prompts, ablation.Fixed(space.Selection(kept))).Loss;
        }
        Assert.Equal(Independent(circuit), result.Reference);
        for (int i = 0; i < circuit.Count; i++) Assert.Equal(Independent(circuit.Where((_, j) => j != i)), result.WithoutNode[i]);
        Assert.Equal(Independent([]), result.WithoutLayer[0]); // one layer: removing it removes the circuit

        // The planted circuit solves the task; a planted neuron matters, the distractor does not.
        Assert.True(result.Reference < 0.05, $"circuit loss {result.Reference}");
        Assert.True(result.WithoutNode[1] > result.Reference + 0.1, $"without 0.mlp.post_act[0]: {result.WithoutNode[1]}");
        Assert.Equal(result.Reference, result.WithoutNode[4], 3);
        Assert.Equal(NodeAblationLosses.Evaluations(circuit), 1 + circuit.Count + 1);
    }
}

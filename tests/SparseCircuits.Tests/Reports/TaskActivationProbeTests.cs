using SparseCircuits.Circuits;
using SparseCircuits.Model;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Circuits;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Reports;

public sealed class TaskActivationProbeTests
{
    static readonly string[] Texts = ["A", "B", "T", "U", "C", "D", "X", "Y"];

    [Fact]
    public void Activations_are_recorded_in_circuit_mode_per_class_and_pair()
    {
        using var planted = new PlantedAblation();
        var (model, space, ablation) = (planted.Model, planted.Space, planted.Ablation);
        var prompts = PlantedModel.Task().Test; // pairs: (fillers A -> T, fillers B -> U)
        var circuit = PlantedModel.Circuit.ToList();
        var result = TaskActivationProbe.Probe(model, ablation, circuit, prompts, pairs: 3, meanPrompts: 10, tokensShown: 2, Texts);

        // Independently: record each prompt alone with the same circuit ablation.
        float[] Record(TaskExample e, NodeId node)
        {
            using var scope = NewDisposeScope();
            var hooks = ablation.Fixed(space.Selection(circuit)).Record(node.Point);
            using (no_grad()) model.forward(tensor(e.PromptIds.Select(t => (long)t).ToArray()).view(1, -1), hooks);
            return hooks[node.Point][0].select(-1, node.Index).data<float>().ToArray();
        }
        for (int n = 0; n < circuit.Count; n++)
        {
            TaskActivations a = result[n];
            Assert.Equal(3, a.Pairs.Count);
            for (int p = 0; p < 3; p++)
            {
                float[] c0 = Record(prompts[2 * p], circuit[n]), c1 = Record(prompts[2 * p + 1], circuit[n]);
                Assert.Equal(prompts[2 * p].PromptIds[^Math.Min(2, c0.Length)..].Select(t => Texts[t]), a.Pairs[p].Class0.Tokens);
                Assert.Equal(c0[^a.Pairs[p].Class0.Activations.Count..].Select(v => ReportNumbers.Activation(v)), a.Pairs[p].Class0.Activations);
                Assert.Equal(c1[^a.Pairs[p].Class1.Activations.Count..].Select(v => ReportNumbers.Activation(v)), a.Pairs[p].Class1.Activations);
                Assert.NotNull(a.Pairs[p].Difference); // pair prompts share their fillers, so lengths match
                Assert.Equal(a.Pairs[p].Class0.Activations.Count, a.Pairs[p].Difference!.Count);
            }
            double mean0 = Enumerable.Range(0, 5).Average(i => (double)Record(prompts[2 * i], circuit[n])[^1]);
            double mean1 = Enumerable.Range(0, 5).Average(i => (double)Record(prompts[2 * i + 1], circuit[n])[^1]);
            Assert.Equal(mean0, a.MeanLastClass0, 3);
            Assert.Equal(mean1, a.MeanLastClass1, 3);
            Assert.Equal(mean0 - mean1, a.MeanLastDifference, 3);
        }
        // n0 = relu(4 c0) fires after A (class 0) only.
        Assert.True(result[1].MeanLastClass0 > 1 && result[1].MeanLastClass1 == 0, $"{result[1].MeanLastClass0} / {result[1].MeanLastClass1}");
    }

    [Fact]
    public void Class_names_quote_a_shared_answer_token()
    {
        var prompts = new List<TaskExample> { new([0], 2, 3), new([1], 3, 2), new([0, 0], 2, 3), new([1, 1], 3, 2) };
        Assert.Equal(["answer \"T\"", "answer \"U\""], CircuitViewBuilder.ClassNames(prompts, Texts));
        var quotes = new List<TaskExample> { new([0], 0, 1), new([1], 1, 0) };
        Assert.Equal(["answer \"'\"", "answer '\"'"], CircuitViewBuilder.ClassNames(quotes, ["'", "\""]));
        var mixed = new List<TaskExample> { new([0], 2, 3), new([1], 3, 2), new([0], 4, 5), new([1], 5, 4) };
        Assert.Equal("answer: the pair's first token", CircuitViewBuilder.ClassNames(mixed, Texts)[0]);
    }
}

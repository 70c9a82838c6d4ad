using SparseCircuits.Bridges;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Bridges;

[Collection(BridgedTinyPairCollection.Name)]
public sealed class BridgeSteeringTests(BridgedTinyPair pair)
{
    /// <summary>Random equal-length prompt pairs with fixed answers: steering needs no task the tiny model solves.</summary>
    static IReadOnlyList<SteeringPrompt> RandomPrompts(int vocab)
    {
        var rng = new SparseCircuits.Core.SplitMix64(5);
        return Enumerable.Range(0, 6).Select(i =>
        {
            int[] a = Enumerable.Range(0, 10 + i).Select(_ => (int)rng.NextBelow((ulong)vocab)).ToArray();
            int[] b = a.ToArray();
            for (int t = 3; t < b.Length; t++) b[t] = (b[t] + 1) % vocab; // every token from the cue on differs, so the steered channel does
            return new SteeringPrompt(new TaskExample(a, 1, 2), new TaskExample(b, 2, 1));
        }).ToList();
    }

    [Fact]
    public void Strength_zero_changes_nothing_and_a_strong_edit_does()
    {
        using var bridged = BridgedPair.Load(pair.BridgedDir);
        var prompts = RandomPrompts(pair.VocabSize);
        var result = BridgeSteering.Run(bridged, "test", BridgedTinyPair.SteeredNode, prompts, [0, 1e4], [0, 1], rmsRatio: 1.5);

        // The dense model untouched: its probability of each prompt's wrong (= counterfactual) answer.
        double unsteered;
        using (no_grad())
        {
            var batch = TaskBatch.From(prompts.Select(p => p.Actual).ToList());
            Tensor last = batch.LastLogits(bridged.Dense.Model.forward(batch.Tokens));
            unsteered = (-TaskLoss.LogitDifference(last, batch)).sigmoid().mean().item<float>();
        }
        Assert.Equal(unsteered, result.Steered.CounterfactualProbability[0], 6);
        Assert.All(result.Controls, c => Assert.Equal(unsteered, c.CounterfactualProbability[0], 6));
        Assert.True(Math.Abs(result.Steered.CounterfactualProbability[1] - unsteered) > 1e-3, "a strength of 10^4 changed nothing");
        Assert.Equal(6, result.Prompts);
    }

    [Fact]
    public void Counterfactual_positions_match_within_the_common_prefix_and_from_the_end_after_it()
    {
        // Actual a b c X d (5 tokens), counterfactual a b c Y Z d (6): prefix 3, then one later.
        var prompt = new SteeringPrompt(new TaskExample([1, 2, 3, 9, 4], 0, 1), new TaskExample([1, 2, 3, 7, 8, 4], 1, 0));
        Assert.Equal([0L, 1, 2, 4, 5, 5], BridgeSteering.Alignment([prompt], 6));
        var equal = new SteeringPrompt(new TaskExample([1, 2, 3], 0, 1), new TaskExample([1, 5, 3], 1, 0));
        Assert.Equal([0L, 1, 2], BridgeSteering.Alignment([equal], 3));
    }

    [Fact]
    public void Control_channels_avoid_the_circuit_and_repeat_with_the_seed()
    {
        var exclude = new HashSet<int> { 0, 3, 5 };
        var a = BridgeSteering.ControlChannels(32, exclude, 8, seed: 4);
        Assert.Equal(8, a.Distinct().Count());
        Assert.DoesNotContain(a, exclude.Contains);
        Assert.Equal(a, BridgeSteering.ControlChannels(32, exclude, 8, seed: 4));
        Assert.NotEqual(a, BridgeSteering.ControlChannels(32, exclude, 8, seed: 5));
    }

    [Fact]
    public void Evaluation_reports_every_site_and_stops_at_its_first_report_once_interrupted()
    {
        using var bridged = BridgedPair.Load(pair.BridgedDir);
        var result = BridgeEvaluation.Measure(bridged, null, CorpusSplit.Val, 128);
        Assert.Equal(BridgeSites.For(2), result.Sites.Select(s => s.Site));
        Assert.All(result.Sites, s => Assert.True(s.NmseEncoder >= 0 && s.NmseDecoder >= 0 && s.KlDenseToSparse >= 0 && s.KlSparseToDense >= 0 && s.LossSparseToDense > 0));
        Assert.ThrowsAny<OperationCanceledException>(() => BridgeEvaluation.Measure(bridged, null, CorpusSplit.Val, 128, progress: new CancelAtFirstReport()));
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Tests.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The task loss, right-padded batches and calibration.</summary>
public sealed class TaskLossTests
{
    public TaskLossTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Loss_is_binary_cross_entropy_over_the_two_answers_at_the_last_prompt_position()
    {
        using var scope = NewDisposeScope();
        TaskExample[] examples = [new([1, 2, 3], 4, 5), new([6], 5, 4)];
        TaskBatch batch = TaskBatch.From(examples);
        Assert.Equal(new long[] { 2, 3 }, batch.Tokens.shape);
        Assert.Equal(new long[] { 2, 0 }, batch.LastPosition.data<long>().ToArray());

        Tensor logits = zeros(2, 3, 8);
        logits[0, 2, 4].fill_(3.0); logits[0, 2, 5].fill_(1.0); logits[0, 2, 7].fill_(100); // other tokens do not matter
        logits[0, 1, 5].fill_(50);                                                          // nor do earlier positions
        logits[1, 0, 5].fill_(-1.0); logits[1, 0, 4].fill_(0.5);
        Tensor last = logits.gather(1, batch.LastPosition.view(2, 1, 1).expand(2, 1, 8)).squeeze(1); // what LogitsAt returns
        float[] d = TaskLoss.LogitDifference(last, batch).data<float>().ToArray();
        Assert.Equal(new[] { 2f, -1.5f }, d);
        double expected = (-Math.Log(1 / (1 + Math.Exp(-2))) - Math.Log(1 / (1 + Math.Exp(1.5)))) / 2;
        Assert.Equal(expected, TaskLoss.Mean(last, batch).item<float>(), 5);
        Assert.Equal(-Math.Log(1 / (1 + Math.Exp(-2))), TaskLoss.PerPrompt(2.0), 12);
        Assert.Equal(-Math.Log(1 / (1 + Math.Exp(40))), TaskLoss.PerPrompt(-40.0), 9);

        TaskScore score = TaskEvaluator.Score([2.0, -1.5]);
        Assert.Equal(expected, score.Loss, 6);
        Assert.Equal(0.5, score.Accuracy);
    }

    [Fact]
    public void Padded_batches_give_the_same_answers_as_one_prompt_at_a_time()
    {
        using var model = TestModels.Create(TestModels.AllOptions());
        var random = new SplitMix64(5);
        var examples = Enumerable.Range(0, 20).Select(_ =>
        {
            int[] prompt = Enumerable.Range(0, 1 + (int)random.NextBelow(12)).Select(_ => (int)random.NextBelow(TestModels.Vocab)).ToArray();
            return new TaskExample(prompt, (int)random.NextBelow(6), 6 + (int)random.NextBelow(6));
        }).ToList();
        double[] batched = TaskEvaluator.LogitDifferences(model, examples, null, batchSize: 7);
        double[] single = TaskEvaluator.LogitDifferences(model, examples, null, batchSize: 1);
        for (int i = 0; i < examples.Count; i++) Assert.Equal(single[i], batched[i], 4);
    }

    [Fact]
    public void Calibration_never_increases_the_loss_and_is_identity_when_nothing_helps()
    {
        TaskExample up = new([1], 2, 3), down = new([1], 3, 2);
        var examples = new[] { up, down, up, down, up, down };
        double[] d = [0.2, 0.3, 0.1, 0.4, -0.1, 0.25];
        var fit = LogitCalibration.Fit(examples, d);
        Assert.True(fit.Scale > 1);
        Assert.True(TaskEvaluator.Score(fit.Apply(examples, d)).Loss < TaskEvaluator.Score(d).Loss);
        // The correct answer is always the lower id and the model has no signal: only the shift helps.
        var biased = LogitCalibration.Fit([up, up, up, up], [0.0, 0.0, 0.0, 0.0]);
        Assert.True(biased.Shift > 1);
        Assert.Equal(1.0, LogitCalibration.Identity.Apply(up, 1.0));
    }
}

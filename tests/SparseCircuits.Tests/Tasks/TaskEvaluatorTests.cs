using SparseCircuits.Model;
using SparseCircuits.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Tasks;

/// <summary>Task loss, accuracy and logit difference against hand-computed values, and batching that cannot change them.</summary>
public sealed class TaskEvaluatorTests
{
    const int Vocab = 10;

    static TaskDataset Dataset(params EncodedPair[] pairs) => new()
    {
        Name = "hand", Split = TaskSplit.Test, Pairs = pairs, Candidates = pairs.Length, Dropped = new Dictionary<DropReason, int>(),
    };

    /// <summary>A fake model: at every position, logit[id] = values[id].</summary>
    static Func<Tensor, Tensor> Constant(params float[] values) => tokens =>
        tensor(values).view(1, 1, -1).expand(tokens.shape[0], tokens.shape[1], values.Length).clone();

    [Fact]
    public void Loss_matches_the_hand_computed_binary_cross_entropy()
    {
        // tok logit 2, alt logit 0: the positive prompt (correct tok) costs log(1 + e^-2).
        Assert.Equal(Math.Log(1 + Math.Exp(-2)), TaskLoss.PerPrompt(2.0), 12);
        Assert.Equal(0.1269280110429725, TaskLoss.PerPrompt(2.0), 12);

        var logits = new float[Vocab];
        logits[3] = 2; // tok
        logits[4] = 0; // alt
        var score = TaskEvaluator.Evaluate(Constant(logits), Dataset(new EncodedPair([1, 2], [1, 5], TokId: 3, AltId: 4)));
        // The negative prompt (correct alt) sees the same logits: its loss is log(1 + e^2).
        double expected = (Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(2))) / 2;
        Assert.Equal(expected, score.Loss, 6);
        Assert.Equal(2 * expected, score.OfficialLoss, 6);
        Assert.Equal(0.5, score.Accuracy);
        Assert.Equal(0.0, score.LogitDiff, 6);
        Assert.Equal(1, score.Pairs);
        Assert.False(score.Solved);
    }

    [Fact]
    public void Accuracy_and_logit_difference_on_hand_made_logits()
    {
        // The fake model reads the last token: after token 1 it prefers id 3 by 4, after token 2 it prefers id 4 by 1.
        Tensor Forward(Tensor tokens)
        {
            var logits = zeros(tokens.shape[0], tokens.shape[1], Vocab);
            logits[TensorIndex.Colon, TensorIndex.Colon, 3] = (tokens == 1).to(ScalarType.Float32) * 4;
            logits[TensorIndex.Colon, TensorIndex.Colon, 4] = (tokens == 2).to(ScalarType.Float32) * 1;
            return logits;
        }
        var data = Dataset(
            new EncodedPair([7, 1], [7, 2], TokId: 3, AltId: 4),     // right on both: +4, +1
            new EncodedPair([7, 7, 2], [7, 1], TokId: 3, AltId: 4)); // wrong on both: -1, -4
        var score = TaskEvaluator.Evaluate(Forward, data, batchSize: 2);
        Assert.Equal(0.5, score.Accuracy);
        Assert.Equal((4 + 1 - 1 - 4) / 4.0, score.LogitDiff, 6);
        double[] d = [4, 1, -1, -4];
        Assert.Equal(d.Average(x => Math.Log(1 + Math.Exp(-x))), score.Loss, 6);

        // Each side alone: pair 1 is right on both sides, pair 2 wrong on both.
        var (all, positive, negative) = TaskEvaluator.BySide(d);
        Assert.Equal(score.Loss, all.Loss, 6);
        Assert.Equal((0.5, 2), (positive.Accuracy, positive.Prompts));
        Assert.Equal((4 - 1) / 2.0, positive.LogitDiff, 6);
        Assert.Equal((1 - 4) / 2.0, negative.LogitDiff, 6);
        // A model with one answer for every prompt: right on one side only.
        var oneAnswer = TaskEvaluator.BySide([3.0, -3, 3, -3]);
        Assert.Equal((0.5, 1.0, 0.0), (oneAnswer.All.Accuracy, oneAnswer.Positive.Accuracy, oneAnswer.Negative.Accuracy));

        var solved = TaskEvaluator.Score([5.0, 6, 7, 8]);
        Assert.True(solved.Solved);
        Assert.Equal(1.0, solved.Accuracy);
        Assert.False(TaskEvaluator.Score([0.0, 0]).Solved); // ties are wrong
    }

    [Fact]
    public void Logits_are_read_at_each_prompts_last_position_despite_padding()
    {
        // logit[3] = position index, logit[4] = 2.5: the difference depends on where the score is read.
        Tensor Forward(Tensor tokens)
        {
            var logits = zeros(tokens.shape[0], tokens.shape[1], Vocab);
            logits[TensorIndex.Colon, TensorIndex.Colon, 3] = arange(tokens.shape[1], dtype: ScalarType.Float32).view(1, -1);
            logits[TensorIndex.Colon, TensorIndex.Colon, 4] = 2.5f;
            return logits;
        }
        var data = Dataset(new EncodedPair([1, 1, 1, 1, 1, 1], [1, 1], TokId: 3, AltId: 4));
        var score = TaskEvaluator.Evaluate(Forward, data);
        // positive: last index 5 -> 5 - 2.5 = 2.5 (tok correct); negative: last index 1 -> alt - tok = 2.5 - 1 = 1.5.
        Assert.Equal((2.5 + 1.5) / 2, score.LogitDiff, 6);
        Assert.Equal(1.0, score.Accuracy);
    }

    [Fact]
    public void Batch_size_does_not_change_a_real_models_scores_and_hooks_apply()
    {
        var tokenizer = TaskTokenizer.Code;
        var data = TaskDataset.FromTask(new SetOrString(), tokenizer, TaskSplit.Test, 12);
        var config = ModelPresets.Tiny.For(tokenizer.VocabSize) with { NCtx = 256 };
        using var model = new SparseGpt(config, new Generator(3, CPU));
        var one = TaskEvaluator.Evaluate(model, data, batchSize: 1);
        var all = TaskEvaluator.Evaluate(model, data, batchSize: 12);
        Assert.Equal(one.Loss, all.Loss, 5);
        Assert.Equal(one.Accuracy, all.Accuracy);
        Assert.Equal(one.LogitDiff, all.LogitDiff, 4);
        var sided = TaskEvaluator.EvaluateBySide(model, data, batchSize: 5);
        Assert.Equal(all.Loss, sided.All.Loss, 5);
        Assert.Equal(all.Loss, (sided.Positive.Loss + sided.Negative.Loss) / 2, 5);
        Assert.Equal((12, 12), (sided.Positive.Prompts, sided.Negative.Prompts));
        // The model path reads logits at the last position only; the full forward gives the same scores.
        using (no_grad())
        {
            model.eval();
            var full = TaskEvaluator.Evaluate(tokens => model.forward(tokens), data, batchSize: 12);
            Assert.Equal(full.Loss, all.Loss, 5);
            Assert.Equal(full.LogitDiff, all.LogitDiff, 4);
        }

        // Zeroing the final residual makes every logit equal (no bias, no bigram): the loss is exactly log 2.
        var ablated = TaskEvaluator.Evaluate(model, data, hooks: new Hooks().Replace(HookPoints.FinalResid, x => zeros_like(x)));
        Assert.Equal(Math.Log(2), ablated.Loss, 6);
        Assert.Equal(0.0, ablated.Accuracy);
    }

    [Fact]
    public void The_differentiable_loss_matches_the_reported_loss()
    {
        var pair = new EncodedPair([1, 2, 3], [1, 2], TokId: 3, AltId: 4);
        using var scope = NewDisposeScope();
        TaskBatch batch = TaskBatch.From(TaskExample.FromPairs([pair]));
        Tensor lastLogits = tensor(new float[,] { { 0, 0, 0, 2, 0, 0, 0, 0, 0, 0 }, { 0, 0, 0, 2, 0, 0, 0, 0, 0, 0 } }).requires_grad_();
        Tensor loss = TaskLoss.Mean(lastLogits, batch);
        loss.backward();
        Assert.Equal((Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(2))) / 2, loss.item<float>(), 5);
        Assert.NotNull(lastLogits.grad);
    }
}

using SparseCircuits.Core;
using SparseCircuits.Training;
using SparseCircuits.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class RepeatedTokensEvalTests
{
    public RepeatedTokensEvalTests() => TorchRuntime.EnsureInitialized();

    const int Vocab = 50, Length = 8;

    /// <summary>A perfect copier: from the second copy on, all its mass on the token Length - 1 positions back.</summary>
    static Tensor Copier(Tensor ids)
    {
        long B = ids.shape[0], T = ids.shape[1];
        long[] values = ids.contiguous().data<long>().ToArray();
        var logits = new float[B * T * Vocab];
        for (long b = 0; b < B; b++)
            for (long p = Length; p < T; p++)
                logits[(b * T + p) * Vocab + values[b * T + p - Length + 1]] = 100;
        return tensor(logits).view(B, T, Vocab);
    }

    [Fact]
    public void A_copier_has_no_loss_on_the_second_copy_and_uniform_loss_on_the_first()
    {
        var result = RepeatedTokensEval.Measure(Copier, Vocab, nCtx: 2 * Length, sequences: 5, length: Length);
        Assert.Equal(Math.Log(Vocab), result.FirstCopyLoss, 5);
        Assert.Equal(0, result.SecondCopyLoss, 5);
        Assert.Equal(Math.Log(Vocab), result.InductionGain, 5);
    }

    [Fact]
    public void A_model_without_training_gains_little_and_the_sequences_are_seeded()
    {
        using var model = TestModels.Create(TestModels.Tiny(), std: 0.02);
        var a = RepeatedTokensEval.Measure(model, sequences: 4, length: 8, seed: 3);
        var b = RepeatedTokensEval.Measure(model, sequences: 4, length: 8, seed: 3);
        Assert.Equal(a, b);
        Assert.InRange(a.InductionGain, -0.2, 0.2);
        Assert.InRange(a.FirstCopyLoss, Math.Log(TestModels.Vocab) - 0.5, Math.Log(TestModels.Vocab) + 0.5);
        Assert.True(model.training);
    }

    [Fact]
    public void Lengths_that_do_not_fit_twice_in_the_context_are_refused()
    {
        using var model = TestModels.Create(TestModels.Tiny()); // n_ctx 16
        var e = Assert.Throws<SparseCircuitsException>(() => RepeatedTokensEval.Measure(model, length: 9));
        Assert.Contains("n_ctx / 2 = 8", e.Message);
        Assert.Throws<SparseCircuitsException>(() => RepeatedTokensEval.Measure(model, sequences: 0, length: 4));
    }
}

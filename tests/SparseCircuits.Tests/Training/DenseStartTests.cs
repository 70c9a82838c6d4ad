using SparseCircuits.Model;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Training;

/// <summary>The dense-first schedule's two configs: what each stage changes and what it keeps.</summary>
public sealed class DenseStartTests
{
    static TrainingConfig Small() => TrainingPresets.Get("small", 2048) with { Seed = 7, RepeatFraction = 0.1 };

    [Fact]
    public void The_sparse_stage_turns_attention_AbsTopK_off_and_keeps_the_MLP_locations()
    {
        TrainingConfig preset = Small() with { Model = Small().Model with { ActivationSparsity = ActivationSparsity.PaperText } };
        TrainingConfig sparse = DenseStart.SparseStage(preset);

        Assert.Equal(new ActivationSparsity { MlpIn = 0.25, MlpNeuron = 0.25, MlpOut = 0.25 }, sparse.Model.ActivationSparsity);
        // Everything else is the preset's: weights still annealed to its density.
        Assert.Equal(preset with { Model = preset.Model with { ActivationSparsity = sparse.Model.ActivationSparsity } }, sparse);
        Assert.False(sparse.Dense);
    }

    [Fact]
    public void The_plain_stage_is_the_same_model_with_dense_weights_and_no_AbsTopK()
    {
        TrainingConfig sparse = DenseStart.SparseStage(Small()) with { InitFrom = "/somewhere/else" };
        TrainingConfig plain = DenseStart.PlainStage(sparse, steps: 123);

        Assert.True(plain.Dense);
        Assert.Equal(123, plain.Steps);
        Assert.Null(plain.InitFrom);
        Assert.Equal(ActivationSparsity.Off, plain.Model.ActivationSparsity);
        // Same shape (so the sparse stage can take its weights), seed, data options and optimizer.
        Assert.Equal(sparse.Model with { ActivationSparsity = ActivationSparsity.Off }, plain.Model);
        Assert.Equal((sparse.Seed, sparse.RepeatFraction, sparse.LearningRate, sparse.BatchSize, sparse.Optimizer),
            (plain.Seed, plain.RepeatFraction, plain.LearningRate, plain.BatchSize, plain.Optimizer));
    }
}

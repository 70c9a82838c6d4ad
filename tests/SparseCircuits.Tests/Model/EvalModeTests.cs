using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

/// <summary>EvalMode: eval inside the block, the module's own mode after it.</summary>
public sealed class EvalModeTests
{
    [Theory]
    [InlineData(true), InlineData(false)]
    public void Eval_inside_the_block_and_the_previous_mode_after_it(bool training)
    {
        using var module = nn.Linear(2, 2);
        module.train(training);
        using (EvalMode.Of(module)) Assert.False(module.training);
        Assert.Equal(training, module.training);
    }
}

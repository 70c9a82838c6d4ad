using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// Eval mode for the length of a <c>using</c> block, then back to the mode the module was in:
/// evaluations called from inside training (val loss, task scores, mean caches) must not leave
/// a training model in eval mode, nor an eval model in training mode.
/// </summary>
public sealed class EvalMode : IDisposable
{
    readonly nn.Module _module;
    readonly bool _wasTraining;

    EvalMode(nn.Module module)
    {
        _module = module;
        _wasTraining = module.training;
        module.eval();
    }

    /// <summary><c>using var _ = EvalMode.Of(model);</c></summary>
    public static EvalMode Of(nn.Module module) => new(module);

    public void Dispose()
    {
        if (_wasTraining) _module.train();
    }
}

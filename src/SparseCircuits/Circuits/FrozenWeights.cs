using SparseCircuits.Model;

namespace SparseCircuits.Circuits;

/// <summary>
/// Turns off gradients for every model parameter while pruning (only the masks learn) and
/// restores each parameter's previous setting on dispose. Also puts the model in eval mode and
/// caches its sparse layouts (<see cref="SparseGpt.CacheSparseLayouts"/>) while it lasts.
/// </summary>
public sealed class FrozenWeights : IDisposable
{
    readonly List<(TorchSharp.Modules.Parameter Parameter, bool RequiresGrad)> _saved;
    readonly SparseGpt _model;
    readonly bool _wasTraining;
    readonly IDisposable _layouts;

    public FrozenWeights(SparseGpt model)
    {
        _model = model;
        _wasTraining = model.training;
        _saved = model.parameters().Select(p => (p, p.requires_grad)).ToList();
        foreach (var (p, _) in _saved) p.requires_grad = false;
        model.eval();
        _layouts = model.CacheSparseLayouts(); // the weights stay fixed: each sparse layout is built once
    }

    public void Dispose()
    {
        _layouts.Dispose();
        foreach (var (p, requiresGrad) in _saved) p.requires_grad = requiresGrad;
        if (_wasTraining) _model.train();
    }
}

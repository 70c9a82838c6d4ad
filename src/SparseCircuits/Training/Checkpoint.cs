using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>A loaded checkpoint. Its tensors are on the CPU; disposing it frees them.</summary>
public sealed class Checkpoint(
    long step,
    string directory,
    OrderedDictionary<string, Tensor> model,
    OrderedDictionary<string, Tensor> optimizer,
    TrainerState state,
    string configJson,
    double? valLoss,
    IReadOnlyDictionary<string, OrderedDictionary<string, Tensor>>? extra = null) : IDisposable
{
    public long Step { get; } = step;
    public string Directory { get; } = directory;
    /// <summary>Model weights by parameter name (e.g. <c>transformer.h.0.attn.c_attn.weight</c>), in file order.</summary>
    public OrderedDictionary<string, Tensor> Model { get; } = model;
    /// <summary>Optimizer state as exported by <see cref="AdamWithDecoupledDecay.ExportState"/>.</summary>
    public OrderedDictionary<string, Tensor> Optimizer { get; } = optimizer;
    public TrainerState State { get; } = state;
    public string ConfigJson { get; } = configJson;
    public double? ValLoss { get; } = valLoss;
    /// <summary>Further safetensors files of the checkpoint (a training companion's) by file name.</summary>
    public IReadOnlyDictionary<string, OrderedDictionary<string, Tensor>> Extra { get; } = extra ?? new Dictionary<string, OrderedDictionary<string, Tensor>>();

    public void Dispose()
    {
        foreach (Tensor t in Model.Values) t.Dispose();
        foreach (Tensor t in Optimizer.Values) t.Dispose();
        foreach (Tensor t in Extra.Values.SelectMany(file => file.Values)) t.Dispose();
    }
}

using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// A parameter handed to <see cref="AdamWithDecoupledDecay"/>: its checkpoint name, the tensor
/// updated in place, and whether decoupled weight decay applies (weight matrices yes; the bigram
/// table, norm weights, sink logits and, by default, biases no: the caller decides).
/// </summary>
public sealed record OptimizedParameter(string Name, Tensor Value, bool Decay);

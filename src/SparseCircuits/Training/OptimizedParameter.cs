using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// A parameter handed to <see cref="AdamWithDecoupledDecay"/>: its checkpoint name, the tensor
/// updated in place, and whether decoupled weight decay applies (weight matrices yes; the bigram
/// table, norm weights, sink logits and, by default, biases no: the caller decides), and a factor
/// on the learning rate (1 for the model; bridge maps, whose inputs are not normalised, take smaller steps).
/// </summary>
public sealed record OptimizedParameter(string Name, Tensor Value, bool Decay, double LearningRateScale = 1);

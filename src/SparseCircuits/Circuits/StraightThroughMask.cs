using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>
/// The mask of a learned node: forward Heaviside(tau) (1 when tau &gt; 0, else 0), backward the
/// derivative of sigmoid(tau / temperature) (straight-through). Written as
/// <c>hard + (soft - soft.detach())</c>: the bracket is exactly 0 in the forward pass and carries
/// the sigmoid's gradient in the backward pass.
/// </summary>
public static class StraightThroughMask
{
    public static Tensor Apply(Tensor tau, double temperature)
    {
        Tensor hard;
        using Scalar zero = 0;
        using (no_grad()) hard = (tau > zero).to(tau.dtype);
        Tensor soft = (tau / temperature).sigmoid();
        return hard + (soft - soft.detach());
    }
}

using SparseCircuits.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>What a removed node is frozen to: its mean activation (the method) or zero (a known sensitivity check).</summary>
public enum AblationKind { Mean, Zero }

/// <summary>
/// Node masks as model hooks, the only way pruning and validation touch the model. At every node
/// location a Replace hook computes <c>x * mask + baseline * (1 - mask)</c> with one mask entry
/// per channel, shared over batch and positions (or per prompt, for attribution). A mask of 1
/// gives x and a mask of 0 gives the baseline exactly (no rounding), so "all open" is the
/// unhooked model and "all closed" is every node at its baseline; in between the gradient
/// reaching a mask entry is (x - baseline) * dLoss/dx summed over positions.
/// </summary>
public sealed class NodeAblation : IDisposable
{
    readonly Tensor[] _baseline; // per point of Space, (width) float32

    public NodeSpace Space { get; }
    public AblationKind Kind { get; }

    public NodeAblation(NodeSpace space, MeanActivations means, AblationKind kind)
    {
        means.CheckCovers(space.Config);
        Space = space;
        Kind = kind;
        _baseline = space.Points.Select(p => kind == AblationKind.Mean
            ? means[p.Name].clone().DetachFromDisposeScope()
            : zeros(p.Width).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>
    /// Hooks for a mask over all nodes: (N) shared by every prompt, or (B, N) one row per prompt.
    /// Autograd flows into <paramref name="nodeMask"/>.
    /// </summary>
    public Hooks Masked(Tensor nodeMask)
    {
        if (nodeMask.shape[^1] != Space.Count) throw new ArgumentException($"a node mask has {Space.Count} entries; got {nodeMask.shape[^1]}");
        var hooks = new Hooks();
        for (int i = 0; i < Space.Points.Count; i++)
        {
            NodePoint p = Space.Points[i];
            Tensor mask = nodeMask.narrow(-1, p.Offset, p.Width);
            if (mask.dim() == 2) mask = mask.unsqueeze(1); // (B, 1, width): one row per prompt, shared over positions
            Tensor baseline = _baseline[i];
            // One full-size tensor per call (addcmul) instead of two: pruning runs this at every location.
            hooks.Replace(p.Name, x =>
            {
                using Scalar one = 1f;
                return (baseline * (1 - mask)).addcmul(x, mask, one);
            });
        }
        return hooks;
    }

    /// <summary>Hooks for a fixed selection: kept nodes run as usual, every other node is frozen to its baseline.</summary>
    public Hooks Fixed(IReadOnlyList<bool> keep)
    {
        if (keep.Count != Space.Count) throw new ArgumentException($"a node selection has {Space.Count} entries; got {keep.Count}");
        var values = new float[Space.Count];
        for (int i = 0; i < values.Length; i++) values[i] = keep[i] ? 1f : 0f;
        return Masked(tensor(values));
    }

    public void Dispose()
    {
        foreach (Tensor t in _baseline) t.Dispose();
    }
}

using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// A set of hooks for one or more forward passes (<see cref="SparseGpt.forward(Tensor, Hooks?)"/>),
/// the one way to read or change activations by name (<see cref="HookPoints"/>). At each point the
/// hooks run in the order they were added, each seeing the previous one's output.
/// <para>
/// Record: stores the activation under its name (detached unless <c>keepGraph</c>). Replace: a
/// function <c>x -&gt; x'</c> of the same shape applied inside the forward pass, so autograd flows
/// through it (mean-ablation masks: <c>x =&gt; x * mask + mean * (1 - mask)</c>; patching:
/// <c>_ =&gt; other</c>).
/// </para>
/// <para>
/// Recorded tensors belong to the caller's dispose scope; move them out
/// (<c>MoveToOuterDisposeScope</c>) to keep them longer. A second forward overwrites them. The
/// forward pass never writes into an activation in place, so a detached record is a stable value.
/// </para>
/// </summary>
public sealed class Hooks
{
    readonly Dictionary<string, List<Func<Tensor, Tensor>>> _byPoint = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _recorded = new(StringComparer.Ordinal);

    /// <summary>Points with at least one hook.</summary>
    public IEnumerable<string> Points => _byPoint.Keys;

    /// <summary>Activations stored by <see cref="Record"/> hooks during the last forward pass.</summary>
    public IReadOnlyDictionary<string, Tensor> Recorded => _recorded;

    public Tensor this[string point] => _recorded.TryGetValue(point, out Tensor? t)
        ? t
        : throw new KeyNotFoundException($"hook point '{point}' was not recorded (add .Record(\"{point}\") and run forward)");

    public bool Has(string point) => _byPoint.ContainsKey(point);

    /// <summary>Stores the activation at <paramref name="point"/>; <paramref name="keepGraph"/> keeps it attached to autograd.</summary>
    public Hooks Record(string point, bool keepGraph = false) => Add(point, x =>
    {
        _recorded[point] = keepGraph ? x : x.detach();
        return x;
    });

    /// <summary>Replaces the activation at <paramref name="point"/> by <paramref name="replacement"/>(x); the shape must not change.</summary>
    public Hooks Replace(string point, Func<Tensor, Tensor> replacement) => Add(point, replacement);

    public Hooks Record(IEnumerable<string> points, bool keepGraph = false)
    {
        foreach (string point in points) Record(point, keepGraph);
        return this;
    }

    /// <summary>Forgets recorded activations (it does not dispose them: their scope does).</summary>
    public void ClearRecorded() => _recorded.Clear();

    /// <summary>Throws a <see cref="SparseCircuitsException"/> for a point the model does not have.</summary>
    public void ValidateFor(ModelConfig config)
    {
        foreach (string point in _byPoint.Keys)
            if (!HookPoints.TryParse(point, config.NLayer, out _, out _)) throw HookPoints.Unknown(point, config.NLayer);
    }

    /// <summary>Runs the hooks of <paramref name="point"/> on <paramref name="x"/>; without hooks, returns x.</summary>
    public static Tensor Run(Hooks? hooks, string point, Tensor x) =>
        hooks is null || !hooks._byPoint.TryGetValue(point, out var fns) ? x : RunAll(point, x, fns);

    static Tensor RunAll(string point, Tensor x, List<Func<Tensor, Tensor>> fns)
    {
        foreach (var fn in fns)
        {
            Tensor y = fn(x);
            if (!ReferenceEquals(x, y) && !x.shape.SequenceEqual(y.shape))
                throw new InvalidOperationException(
                    $"hook at '{point}' returned shape [{string.Join(", ", y.shape)}] for an activation of shape [{string.Join(", ", x.shape)}]");
            x = y;
        }
        return x;
    }

    Hooks Add(string point, Func<Tensor, Tensor> fn)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (!_byPoint.TryGetValue(point, out var fns)) _byPoint[point] = fns = [];
        fns.Add(fn);
        return this;
    }
}

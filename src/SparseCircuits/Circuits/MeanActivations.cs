using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>
/// The mean activation of every node (one scalar per channel of every node location, averaged
/// over all positions of held-out pretraining text): the value a pruned node is frozen to.
/// Tensors are float32 vectors keyed by hook point (<c>0.attn.q</c>, ...), owned by this object.
/// </summary>
public sealed class MeanActivations : IDisposable
{
    readonly Dictionary<string, Tensor> _byPoint;

    /// <summary>Positions averaged over.</summary>
    public long Tokens { get; }

    public IReadOnlyDictionary<string, Tensor> ByPoint => _byPoint;

    /// <summary>Takes ownership of detached copies of <paramref name="byPoint"/> (each a vector of the point's width).</summary>
    public MeanActivations(IReadOnlyDictionary<string, Tensor> byPoint, long tokens)
    {
        using var scope = NewDisposeScope();
        _byPoint = byPoint.ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(ScalarType.Float32).clone().DetachFromDisposeScope(), StringComparer.Ordinal);
        Tokens = tokens;
    }

    public Tensor this[string point] => _byPoint.TryGetValue(point, out Tensor? t)
        ? t
        : throw new SparseCircuitsException($"the mean cache has no entry for {point}; recompute it with `circuits means`");

    /// <summary>Throws a user error unless every node location of <paramref name="config"/> has a mean of the right width.</summary>
    public void CheckCovers(ModelConfig config)
    {
        foreach (NodePoint p in new NodeSpace(config).Points)
        {
            Tensor t = this[p.Name];
            if (t.dim() != 1 || t.shape[0] != p.Width)
                throw new SparseCircuitsException($"the mean cache entry {p.Name} has shape [{string.Join(", ", t.shape)}], the model needs [{p.Width}]; recompute it with `circuits means`");
        }
    }

    /// <summary>Every node's mean as one vector in <see cref="NodeSpace"/> order.</summary>
    public float[] Flat(NodeSpace space)
    {
        var values = new float[space.Count];
        foreach (NodePoint p in space.Points) this[p.Name].data<float>().ToArray().CopyTo(values, p.Offset);
        return values;
    }

    /// <summary>Means over every position of <paramref name="batches"/> (each (B, T) int64 token ids), accumulated in float64.</summary>
    public static MeanActivations Compute(SparseGpt model, IEnumerable<Tensor> batches, IProgressTask? progress = null) =>
        Accumulate(model, batches, t => t, progress);

    /// <summary>Means over the first <paramref name="maxTokens"/> positions of <paramref name="shard"/>, in windows of n_ctx tokens.</summary>
    public static MeanActivations Compute(SparseGpt model, TokenShard shard, long maxTokens, int batchSize = 8, IProgressTask? progress = null)
    {
        int T = model.Config.NCtx;
        return Accumulate(model, SequentialWindows.Batches(shard, batchSize, T, maxTokens), windows =>
        {
            int B = windows.Length / (T + 1);
            return tensor(windows).view(B, T + 1).narrow(1, 0, T);
        }, progress);
    }

    /// <summary><paramref name="toTokens"/> runs inside each batch's dispose scope, so batches made from arrays are freed per step.</summary>
    static MeanActivations Accumulate<TBatch>(SparseGpt model, IEnumerable<TBatch> batches, Func<TBatch, Tensor> toTokens, IProgressTask? progress)
    {
        TorchRuntime.EnsureInitialized();
        var points = new NodeSpace(model.Config).Points;
        var sums = points.ToDictionary(p => p.Name, p => zeros(p.Width, ScalarType.Float64).DetachFromDisposeScope());
        long positions = 0;
        using var mode = EvalMode.Of(model);
        try
        {
            using var _ = no_grad();
            foreach (TBatch batch in batches)
            {
                using var scope = NewDisposeScope();
                Tensor tokens = toTokens(batch);
                var hooks = new Hooks().Record(points.Select(p => p.Name));
                model.forward(tokens, hooks);
                foreach (NodePoint p in points) sums[p.Name].add_(hooks[p.Name].to(ScalarType.Float64).sum([0, 1]));
                long n = tokens.shape[0] * tokens.shape[1];
                positions += n;
                progress?.Advance(n);
            }
            if (positions == 0) throw new SparseCircuitsException("no tokens to average over: the text is shorter than one context window");
            using var divided = NewDisposeScope();
            var means = sums.ToDictionary(kv => kv.Key, kv => kv.Value / positions);
            return new MeanActivations(means, positions);
        }
        finally
        {
            foreach (Tensor t in sums.Values) t.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (Tensor t in _byPoint.Values) t.Dispose();
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Reports;

/// <summary>
/// Runs the unablated model over the first tokens of pretraining validation text (consecutive
/// windows of n_ctx tokens, as <see cref="MeanActivations"/> reads them), records each profiled
/// node's activation at every position through hooks, and turns it into an
/// <see cref="ActivationProfile"/>. Memory: one float per node and position.
/// </summary>
public static class NodeProfiler
{
    public const int BatchSize = 8;

    public static IReadOnlyDictionary<string, NodeProfile> Profile(SparseGpt model, TokenShard shard, IReadOnlyList<NodeId> nodes, long maxTokens,
        IReadOnlyList<string> tokenTexts, SnippetSettings snippets, ulong seed, IProgressTask? progress = null)
    {
        if (nodes.Count == 0) return new Dictionary<string, NodeProfile>();
        var (activations, tokens) = Record(model, shard, nodes, maxTokens, progress);
        var text = new ProfileText(tokens, model.Config.NCtx, tokenTexts);
        var profiles = new Dictionary<string, NodeProfile>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            string id = nodes[i].ToString();
            profiles[id] = ActivationProfile.Build(activations[i], text, snippets, seed ^ StableHash(id));
        }
        return profiles;
    }

    /// <summary>Per node (in the order given) its activation at every position, and the token ids of those positions.</summary>
    public static (float[][] Activations, int[] Tokens) Record(SparseGpt model, TokenShard shard, IReadOnlyList<NodeId> nodes, long maxTokens,
        IProgressTask? progress = null)
    {
        TorchRuntime.EnsureInitialized();
        int T = model.Config.NCtx;
        if (shard.Length < T + 1)
            throw new SparseCircuitsException($"the val shard {shard.Path} has {shard.Length} tokens, fewer than one window of {T + 1}; node profiles need at least one");
        long windows = Math.Min((shard.Length - 1) / T, Math.Max(1, maxTokens / T));
        int positions = checked((int)(windows * T));
        var activations = nodes.Select(_ => new float[positions]).ToArray();
        var tokens = new int[positions];
        var byPoint = nodes.Select((n, i) => (Node: n, Slot: i)).GroupBy(x => x.Node.Point)
            .Select(g => (Point: g.Key, Channels: g.Select(x => (long)x.Node.Index).ToArray(), Slots: g.Select(x => x.Slot).ToArray())).ToList();

        using (EvalMode.Of(model))
        {
            using var _ = no_grad();
            int offset = 0;
            foreach (long[] batch in SequentialWindows.Batches(shard, BatchSize, T, positions))
            {
                using var scope = NewDisposeScope();
                int B = batch.Length / (T + 1);
                for (int b = 0; b < B; b++)
                    for (int t = 0; t < T; t++) tokens[offset + b * T + t] = (int)batch[b * (T + 1) + t];
                var hooks = new Hooks().Record(byPoint.Select(p => p.Point));
                model.forward(tensor(batch).view(B, T + 1).narrow(1, 0, T), hooks);
                foreach (var (point, channels, slots) in byPoint)
                {
                    Tensor picked = hooks[point].index_select(-1, tensor(channels)).reshape(B * T, channels.Length); // (B*T, k)
                    float[] values = picked.t().contiguous().to(ScalarType.Float32).data<float>().ToArray(); // (k, B*T) row-major
                    for (int k = 0; k < slots.Length; k++) Array.Copy(values, k * B * T, activations[slots[k]], offset, B * T);
                }
                offset += B * T;
                progress?.Advance(B * T);
            }
        }
        return (activations, tokens);
    }

    /// <summary>FNV-1a of the node id: a per-node snippet seed that does not depend on which other nodes are profiled.</summary>
    static ulong StableHash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }
}

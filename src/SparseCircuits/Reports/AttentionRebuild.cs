using SparseCircuits.Circuits;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Reports;

/// <summary>
/// The attention pattern of one head rebuilt from its q and k activations, over the last
/// <c>window</c> positions of a prompt: score(i, j) = sum over channels c of q_c(i) k_c(j) /
/// sqrt(d_head), causal (j &lt;= i), softmax over the keys inside the window so each row sums to 1.
/// Kept uses only the channels the circuit keeps in both q and k of the head (an empty set gives
/// uniform rows); Full uses every channel. q and k come from one unablated forward pass (hooks
/// <c>L.attn.q</c>, <c>L.attn.k</c>), so Full is the model's own head restricted to the window
/// (ignoring an attention sink, which only rescales rows). In a rotary model q and k are rotated to
/// their positions first, Kept after zeroing the channels it leaves out, so a kept channel also
/// meets its rotation partner's k (channel ± d_head/2) when that one is kept.
/// </summary>
public static class AttentionRebuild
{
    /// <summary>Patterns of every (layer, head) that has a kept q or k node, keyed by (layer, head).</summary>
    public static IReadOnlyDictionary<(int Layer, int Head), AttentionView> ForCircuit(SparseGpt model, IReadOnlyList<NodeId> circuit, int[] prompt,
        IReadOnlyList<string> tokenTexts, int window)
    {
        int dHead = model.Config.DHead;
        var rotary = model.Config.PositionalEmbedding == PositionalEmbedding.Rotary ? new RotaryEmbedding(model.Config.NCtx, dHead) : null;
        var heads = circuit.Where(n => n.Location is NodeLocation.AttnQ or NodeLocation.AttnK).Select(n => (n.Layer, Head: n.Index / dHead)).Distinct().ToList();
        var result = new Dictionary<(int, int), AttentionView>();
        if (heads.Count == 0) return result;
        var kept = circuit.ToHashSet();
        int shown = Math.Min(window, prompt.Length);
        var tokens = prompt[^shown..].Select(id => tokenTexts[id]).ToList();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var hooks = new Hooks();
        foreach (int layer in heads.Select(h => h.Layer).Distinct()) hooks.Record(HookPoints.AttnQ.At(layer)).Record(HookPoints.AttnK.At(layer));
        model.forward(tensor(prompt.Select(id => (long)id).ToArray()).view(1, -1), hooks);
        int[] all = Enumerable.Range(0, dHead).ToArray();
        // The head's channels outside keep set to 0, then turned to their positions (the last `shown` of the prompt).
        float[] Rotated(float[] x, int[] keep)
        {
            var masked = new float[x.Length];
            for (int row = 0; row < x.Length / dHead; row++)
                foreach (int c in keep) masked[row * dHead + c] = x[row * dHead + c];
            using Tensor turned = rotary!.Apply(tensor(masked).view(shown, dHead), start: prompt.Length - shown);
            return turned.contiguous().data<float>().ToArray();
        }
        foreach (var (layer, head) in heads)
        {
            float[] q = HeadActivations(hooks[HookPoints.AttnQ.At(layer)], head, dHead, shown);
            float[] k = HeadActivations(hooks[HookPoints.AttnK.At(layer)], head, dHead, shown);
            int[] channels = Enumerable.Range(head * dHead, dHead)
                .Where(c => kept.Contains(new NodeId(layer, NodeLocation.AttnQ, c)) && kept.Contains(new NodeId(layer, NodeLocation.AttnK, c))).ToArray();
            int[] local = channels.Select(c => c - head * dHead).ToArray();
            result[(layer, head)] = rotary is null
                ? new AttentionView(tokens, Pattern(q, k, local, dHead), Pattern(q, k, all, dHead), channels)
                : new AttentionView(tokens, Pattern(Rotated(q, local), Rotated(k, local), all, dHead), Pattern(Rotated(q, all), Rotated(k, all), all, dHead), channels);
        }
        return result;
    }

    /// <summary>
    /// Causal softmax pattern from q and k ((positions, d_head) row-major, one head) using only
    /// <paramref name="channels"/> (indices within the head); entries above the diagonal are 0.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<float>> Pattern(float[] q, float[] k, int[] channels, int dHead)
    {
        int positions = q.Length / dHead;
        double scale = 1 / Math.Sqrt(dHead);
        var rows = new List<IReadOnlyList<float>>(positions);
        for (int i = 0; i < positions; i++)
        {
            var scores = new double[i + 1];
            for (int j = 0; j <= i; j++)
                foreach (int c in channels) scores[j] += (double)q[i * dHead + c] * k[j * dHead + c] * scale;
            double max = scores.Max();
            double sum = scores.Sum(s => Math.Exp(s - max));
            var row = new float[positions];
            for (int j = 0; j <= i; j++) row[j] = ReportNumbers.Activation(Math.Exp(scores[j] - max) / sum);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The head's channels at the last <paramref name="shown"/> positions of a (1, T, H*D) activation, as (shown, D) row-major.</summary>
    static float[] HeadActivations(Tensor activation, int head, int dHead, int shown)
    {
        long T = activation.shape[1];
        return activation[0].narrow(0, T - shown, shown).narrow(1, (long)head * dHead, dHead).contiguous().to(ScalarType.Float32).data<float>().ToArray();
    }
}

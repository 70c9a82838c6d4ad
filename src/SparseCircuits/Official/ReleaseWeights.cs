using SparseCircuits.Core;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Official;

/// <summary>
/// The release's state_dict and our model's weights, both ways. The names are the same
/// (<see cref="SparseGpt"/> uses the release's); what differs is what each side may leave out.
/// </summary>
public static class ReleaseWeights
{
    static readonly string[] LinearsWithBias = [".attn.c_attn.", ".attn.c_proj.", ".mlp.c_fc.", ".mlp.c_proj."];

    /// <summary>
    /// Weights for a <see cref="SparseGpt"/> of <paramref name="config"/> from the release's
    /// <paramref name="stateDict"/> (which this takes over: returned or disposed tensors). Filled
    /// in as the release's forward sees them: a missing <c>final_logits_bias</c> is zeros (its
    /// loader does the same), biases of a <c>bias: false</c> model are zeros. The causal-mask
    /// buffers (<c>attn.bias</c>) its non-flash attention registers are dropped. Anything else
    /// missing or left over is reported by <see cref="ModelWeights.Import"/>.
    /// </summary>
    public static OrderedDictionary<string, Tensor> ToModel(OrderedDictionary<string, Tensor> stateDict, ReleaseConfig config, string source,
        ICollection<string> notes)
    {
        var result = new OrderedDictionary<string, Tensor>();
        int masks = 0;
        foreach (var (name, tensor) in stateDict)
        {
            if (!config.Bias && name.EndsWith(".bias", StringComparison.Ordinal) && LinearsWithBias.Any(name.Contains))
            {
                foreach (Tensor t in stateDict.Values) t.Dispose();
                throw new SparseCircuitsException($"{source} has {name} but its config says bias: false");
            }
            if (IsCausalMask(name, tensor, config.Model)) masks++;
            else result.Add(name, tensor);
        }
        foreach (var (name, tensor) in stateDict)
            if (!result.ContainsKey(name)) tensor.Dispose();
        if (masks > 0) notes.Add($"dropped {masks} causal-mask buffers (attn.bias) of the release's non-flash attention");
        if (!result.ContainsKey("final_logits_bias"))
        {
            result.Add("final_logits_bias", zeros(config.Model.VocabSize));
            notes.Add("final_logits_bias absent: zeros, as the release's loader fills it");
        }
        if (!config.Bias)
        {
            foreach (string weight in result.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal) && LinearsWithBias.Any(k.Contains)).ToList())
                result.Add(weight[..^"weight".Length] + "bias", zeros(result[weight].shape[0]));
            notes.Add("bias: false: the Linear biases are zeros");
        }
        return result;
    }

    /// <summary>
    /// The release's state_dict of <paramref name="model"/> (views of its tensors), with a zero
    /// <c>wpe</c> when the model has no positional embedding: the release always adds one.
    /// </summary>
    public static List<(string Name, Tensor Tensor)> FromModel(SparseGpt model)
    {
        var tensors = model.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();
        if (tensors.All(t => t.Key != "transformer.wpe.weight"))
            tensors.Insert(1, ("transformer.wpe.weight", zeros(model.Config.NCtx, model.Config.DModel)));
        return tensors;
    }

    static bool IsCausalMask(string name, Tensor tensor, ModelConfig config) =>
        name.StartsWith("transformer.h.", StringComparison.Ordinal) && name.EndsWith(".attn.bias", StringComparison.Ordinal)
        && tensor.shape.SequenceEqual(new long[] { 1, 1, config.NCtx, config.NCtx });
}

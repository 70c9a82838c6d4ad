using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>Moving weights between a <see cref="SparseGpt"/> and a name -> tensor map (checkpoints, safetensors).</summary>
public static class ModelWeights
{
    /// <summary>Parameters and buffers by official name (views of the model's own storage).</summary>
    public static IReadOnlyDictionary<string, Tensor> Export(SparseGpt model) => model.state_dict();

    /// <summary>
    /// Copies <paramref name="weights"/> into the model. Every model tensor must be present with
    /// its exact shape and no extra names may appear: anything else means the weights belong to a
    /// different config, which is a user error naming <paramref name="source"/>.
    /// </summary>
    public static void Import(SparseGpt model, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var own = model.state_dict();
        var missing = own.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var extra = weights.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new SparseCircuitsException($"{source} was made for a different model config (missing: {Describe(missing)}; unexpected: {Describe(extra)})");
        using var _ = no_grad();
        foreach (var (name, target) in own)
        {
            Tensor value = weights[name];
            if (!value.shape.SequenceEqual(target.shape))
                throw new SparseCircuitsException($"{source} was made for a different model config: {name} has shape [{string.Join(", ", value.shape)}], the model expects [{string.Join(", ", target.shape)}]");
            target.copy_(value);
        }
    }

    static string Describe(List<string> names) =>
        names.Count == 0 ? "none" : string.Join(", ", names.Take(3)) + (names.Count > 3 ? $" and {names.Count - 3} more" : "");
}

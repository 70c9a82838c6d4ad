using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Training;

/// <summary>
/// A warm start (<see cref="TrainingConfig.InitFrom"/>): a new run begins from the weights of a
/// checkpoint of a model with the same shape instead of a random initialisation. Why: on a CPU a
/// bridged pair (docs/bridges.md) cannot afford to train its sparse model from scratch next to the
/// dense one, but can fit bridges around a sparse model that already does the tasks. Optimizer
/// moments, step and sampler start fresh; only the weights come over. The activation sparsity may
/// differ (it has no parameters): a model trained without AbsTopK can start a sparse one, the
/// dense-first schedule of docs/training.md.
/// </summary>
public static class InitialWeights
{
    /// <summary>
    /// The checkpoint directory <paramref name="path"/> names: itself when it is a complete checkpoint,
    /// else the best-by-val (or latest) checkpoint of the run it holds, as an absolute path.
    /// </summary>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(Path.Combine(full, CheckpointStore.CompleteFile))) return full;
        var run = new RunDirectory(full);
        TrainingConfig config = run.ReadConfig();
        var store = new CheckpointStore(run.CheckpointsDir, config.KeepLastCheckpoints);
        return (store.Best() ?? store.Latest())?.Directory
            ?? throw new SparseCircuitsException($"{full} has no complete checkpoint to start from");
    }

    /// <summary>
    /// Copies the weights of <paramref name="checkpointDir"/> into <paramref name="model"/>, refusing a
    /// checkpoint of another model (vocabulary, width, depth, positions ...); only the activation
    /// sparsity may differ.
    /// </summary>
    /// <returns>SHA-256 of the weights file, for the run's manifest</returns>
    public static string Load(SparseGpt model, ModelConfig expected, string checkpointDir)
    {
        using Checkpoint init = CheckpointStore.Load(checkpointDir);
        ModelConfig saved = ConfigLoader.Load(new TrainingConfig(), [System.Text.Json.Nodes.JsonNode.Parse(init.ConfigJson)!.AsObject()], []).Model;
        if (FirstDifference(saved, expected) is string field)
            throw new SparseCircuitsException($"init_from {checkpointDir} holds another model: its model.{field} differs from the config's; start from a run with the same model settings");
        ModelWeights.Import(model, init.Model, checkpointDir);
        return Hashing.Sha256File(Path.Combine(checkpointDir, CheckpointStore.ModelFile));
    }

    const string ActivationSparsityField = "activation_sparsity";

    static string? FirstDifference(ModelConfig a, ModelConfig b)
    {
        var (x, y) = (System.Text.Json.Nodes.JsonNode.Parse(Json.Serialize(a))!.AsObject(), System.Text.Json.Nodes.JsonNode.Parse(Json.Serialize(b))!.AsObject());
        return x.Select(kv => kv.Key).FirstOrDefault(k => k != ActivationSparsityField && x[k]?.ToJsonString() != y[k]?.ToJsonString());
    }
}

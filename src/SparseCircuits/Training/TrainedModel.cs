using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;

namespace SparseCircuits.Training;

/// <summary>A model loaded from a run directory, with its tokenizer and the checkpoint it came from.</summary>
public sealed class TrainedModel : IDisposable
{
    public required SparseGpt Model { get; init; }
    public required CodeTokenizer Tokenizer { get; init; }
    public required TrainingConfig Config { get; init; }
    public required RunDirectory Run { get; init; }
    public required string CheckpointDir { get; init; }
    public required long Step { get; init; }

    /// <summary>Loads the best-by-val (default), latest or a given step's checkpoint of the run in <paramref name="runDir"/>.</summary>
    public static TrainedModel Load(string runDir, CheckpointChoice choice = default)
    {
        TorchRuntime.EnsureInitialized();
        var run = new RunDirectory(Path.GetFullPath(runDir));
        TrainingConfig config = run.ReadConfig();
        var store = new CheckpointStore(run.CheckpointsDir, config.KeepLastCheckpoints);
        using Checkpoint checkpoint = (choice.Find(store) is { } chosen ? CheckpointStore.Load(chosen.Directory) : null)
            ?? throw new SparseCircuitsException($"{run.Path} has no complete checkpoint yet");
        if (!Directory.Exists(run.TokenizerDir)) throw new SparseCircuitsException($"{run.Path} has no tokenizer/ directory");
        var tokenizer = CodeTokenizer.Load(run.TokenizerDir);
        if (tokenizer.VocabSize != config.Model.VocabSize)
            throw new SparseCircuitsException($"tokenizer in {run.TokenizerDir} has {tokenizer.VocabSize} tokens but the model has vocab_size {config.Model.VocabSize}");
        var model = new SparseGpt(config.Model) { LinearKernels = config.Kernels };
        ModelWeights.Import(model, checkpoint.Model, checkpoint.Directory);
        model.eval();
        return new TrainedModel
        {
            Model = model, Tokenizer = tokenizer, Config = config, Run = run, CheckpointDir = checkpoint.Directory, Step = checkpoint.Step,
        };
    }

    /// <summary>
    /// The token shards in <paramref name="dataDir"/> (default: the ones the run was trained on,
    /// from its manifest) with their directory, refused unless they were made with this model's
    /// tokenizer (token ids of another vocabulary would be silently wrong).
    /// </summary>
    public (ShardManifest Shards, string Dir) Shards(string? dataDir = null)
    {
        string dir = dataDir ?? Run.ReadDataDir()
            ?? throw new SparseCircuitsException($"{Run.Path} names no token shards (imported without them, or no manifest.json): make shards with its tokenizer " +
                $"(circuits corpus tokenize --tokenizer {Run.TokenizerDir}) and pass them with --data");
        ShardManifest shards = ShardManifest.Load(dir);
        if (shards.TokenizerHash != Tokenizer.Hash)
            throw new SparseCircuitsException($"shards in {dir} were made with a different tokenizer than the model's; pass the run's shard directory");
        return (shards, dir);
    }

    /// <summary>UTF-8 length of every token id, for bits-per-byte.</summary>
    public int[] TokenByteLengths() => Enumerable.Range(0, Tokenizer.VocabSize).Select(id => Tokenizer.TokenBytes(id).Length).ToArray();

    public void Dispose() => Model.Dispose();
}

using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Circuits;

/// <summary>What <c>means/means.json</c> records about a mean-activation cache (docs/circuits.md).</summary>
public sealed record MeanCacheInfo(
    int Format,
    string Kind,
    ModelReference Model,
    string DataDir,
    string Split,
    long Tokens,
    string MeansSha256,
    IReadOnlyList<string> Points);

/// <summary>
/// The mean-activation cache stored next to a model: <c>&lt;run&gt;/means/means.safetensors</c>
/// (one float32 vector per hook point, named like the point) and <c>means.json</c>
/// (<see cref="MeanCacheInfo"/>, written last). It is tied to the checkpoint by the SHA-256 of
/// the checkpoint's <c>model.safetensors</c>; loading it for other weights is an error.
/// </summary>
public static class MeanCache
{
    public const string DirName = "means";
    public const string TensorFile = "means.safetensors";
    public const string InfoFile = "means.json";
    public const string KindName = "sparse-circuits-means";
    public const int CurrentFormat = 1;

    public static string Directory(string runDir) => Path.Combine(runDir, DirName);

    public static bool Exists(string runDir) => File.Exists(Path.Combine(Directory(runDir), InfoFile));

    public const long DefaultTokens = 131_072;

    /// <summary>
    /// Computes the means of <paramref name="trained"/> over the first <paramref name="maxTokens"/>
    /// tokens of the val split of <paramref name="dataDir"/> (default: the shards the run was
    /// trained on) and stores them next to the model.
    /// </summary>
    public static MeanCacheInfo Build(TrainedModel trained, string? dataDir, long maxTokens, IProgressReporter progress)
    {
        if (maxTokens < 1) throw new SparseCircuitsException($"the number of tokens for the means must be >= 1 (got {maxTokens})");
        var (shards, data) = trained.Shards(dataDir);
        using var shard = shards.Open(data, CorpusSplit.Val);
        ModelReference model = ModelReference.Of(trained);
        MeanActivations means;
        using (var bar = progress.Start("mean activations (val)", Math.Min(maxTokens, shard.Length), "tokens"))
            means = MeanActivations.Compute(trained.Model, shard, maxTokens, progress: bar);
        using (means) return Save(means, model, Path.GetFullPath(data), "val");
    }

    public static MeanCacheInfo Save(MeanActivations means, ModelReference model, string dataDir, string split)
    {
        string dir = Directory(model.RunDir);
        string tensors = Path.Combine(dir, TensorFile);
        var points = means.ByPoint.Keys.Order(StringComparer.Ordinal).ToList();
        SafeTensors.Write(tensors, points.Select(p => (p, means.ByPoint[p])).ToList(),
            new Dictionary<string, string> { ["checkpoint_sha256"] = model.CheckpointSha256, ["tokens"] = means.Tokens.ToString() });
        var info = new MeanCacheInfo(CurrentFormat, KindName, model, dataDir, split, means.Tokens, Hashing.Sha256File(tensors), points);
        AtomicFile.WriteJson(Path.Combine(dir, InfoFile), info);
        return info;
    }

    /// <summary>
    /// Loads the cache of the run that <paramref name="model"/> names and checks it was computed
    /// for exactly those weights; missing, stale or damaged caches are user errors that say how
    /// to recompute them.
    /// </summary>
    /// <summary>
    /// The cache of <paramref name="trained"/>'s checkpoint, built first (from <paramref name="dataDir"/>,
    /// default the run's shards) when it is missing, stale (another checkpoint) or damaged.
    /// <paramref name="built"/> describes the new cache, or is null when the stored one was used.
    /// </summary>
    public static MeanActivations LoadOrBuild(TrainedModel trained, string? dataDir, long maxTokens, IProgressReporter progress, out MeanCacheInfo? built)
    {
        ModelReference model = ModelReference.Of(trained);
        try
        {
            built = null;
            return Load(model);
        }
        catch (SparseCircuitsException e)
        {
            progress.Info($"computing the mean cache ({e.Message.Split(';')[0]})");
            built = Build(trained, dataDir, maxTokens, progress);
            return Load(model);
        }
    }

    public static MeanActivations Load(ModelReference model)
    {
        string dir = Directory(model.RunDir);
        string fix = $"run `circuits means --model {model.RunDir}`";
        string infoPath = Path.Combine(dir, InfoFile);
        if (!File.Exists(infoPath)) throw new SparseCircuitsException($"{model.RunDir} has no mean-activation cache; {fix} first");
        MeanCacheInfo info;
        try { info = Json.ReadFile<MeanCacheInfo>(infoPath); }
        catch (SparseCircuitsException e) { throw new SparseCircuitsException($"the mean cache is damaged ({e.Message}); {fix}"); }
        if (info.Kind != KindName || info.Model is null || info.Points is null)
            throw new SparseCircuitsException($"{infoPath} is not a mean-activation cache; {fix}");
        if (info.Format != CurrentFormat)
            throw new SparseCircuitsException($"{infoPath} has format {info.Format}; this version reads format {CurrentFormat}; {fix}");
        if (info.Model.CheckpointSha256 != model.CheckpointSha256)
            throw new SparseCircuitsException(
                $"the mean cache is stale: it was computed for {info.Model.Checkpoint} (sha256 {Short(info.Model.CheckpointSha256)}) but the model now loads {model.Checkpoint} (sha256 {Short(model.CheckpointSha256)}); {fix}");
        string tensors = Path.Combine(dir, TensorFile);
        if (!File.Exists(tensors) || Hashing.Sha256File(tensors) != info.MeansSha256)
            throw new SparseCircuitsException($"the mean cache file {tensors} is missing or does not match {InfoFile}; {fix}");
        SafeTensorsContent content = SafeTensors.Read(tensors);
        try
        {
            return new MeanActivations(content.Tensors, info.Tokens);
        }
        finally
        {
            foreach (Tensor t in content.Tensors.Values) t.Dispose();
        }
    }

    static string Short(string? sha) => sha is { Length: > 12 } ? sha[..12] : sha ?? "?";
}

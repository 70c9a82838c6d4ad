using SparseCircuits.Core;

namespace SparseCircuits.Bridges;

/// <summary>
/// <c>bridges.json</c> in a bridged run directory (docs/formats.md): which frozen dense model the
/// sparse model and its bridges were trained next to (run, checkpoint, SHA-256 of its weights),
/// the shared tokenizer, the sites and the <see cref="BridgeConfig"/>. Its presence marks a run
/// with bridges; the bridge maps themselves are <c>bridges.safetensors</c> in each checkpoint.
/// </summary>
public sealed record BridgeRunInfo(
    string DenseRun,
    string DenseCheckpoint,
    string DenseModelSha256,
    string TokenizerHash,
    IReadOnlyList<string> Sites,
    BridgeConfig Config)
{
    public const string FileName = "bridges.json";
    public const string KindName = "sparse-circuits-bridges";
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public string Kind { get; init; } = KindName;

    public static string PathIn(string runDir) => Path.Combine(runDir, FileName);

    /// <summary>The bridges of the run in <paramref name="runDir"/>, or null when it has none.</summary>
    public static BridgeRunInfo? TryLoad(string runDir)
    {
        string path = PathIn(runDir);
        if (!File.Exists(path)) return null;
        BridgeRunInfo info = Json.ReadFile<BridgeRunInfo>(path);
        if (info.Kind != KindName || info.Format != CurrentFormat)
            throw new SparseCircuitsException($"{path} is not a bridges file of format {CurrentFormat} (kind {info.Kind}, format {info.Format})");
        info.Config.Validate();
        return info;
    }

    /// <summary>The bridges of the run in <paramref name="runDir"/>; a run without them is a user error.</summary>
    public static BridgeRunInfo Load(string runDir) => TryLoad(runDir)
        ?? throw new SparseCircuitsException($"{Path.GetFullPath(runDir)} has no bridges ({FileName}); train one with `circuits bridges train`");

    public void Save(string runDir) => AtomicFile.WriteJson(PathIn(runDir), this);
}

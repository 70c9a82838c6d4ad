using System.Text.Json.Serialization;
using SparseCircuits.Core;

namespace SparseCircuits.Training;

/// <summary>
/// Layout of a training run directory (docs/formats.md): <c>config.json</c> (effective
/// <see cref="TrainingConfig"/>), <c>manifest.json</c> (<see cref="RunManifest"/>),
/// <c>metrics.jsonl</c>, <c>tokenizer/</c> (copy, so the run is self-contained),
/// <c>checkpoints/step_N/</c>.
/// </summary>
public sealed record RunDirectory(string Path)
{
    public string ConfigFile => System.IO.Path.Combine(Path, "config.json");
    public string ManifestFile => System.IO.Path.Combine(Path, "manifest.json");
    public string TokenizerDir => System.IO.Path.Combine(Path, "tokenizer");
    public string CheckpointsDir => System.IO.Path.Combine(Path, "checkpoints");

    public bool HasRun => File.Exists(ConfigFile);

    public TrainingConfig ReadConfig()
    {
        if (!Directory.Exists(Path)) throw new SparseCircuitsException($"model directory not found: {Path}");
        if (!HasRun) throw new SparseCircuitsException($"{Path} is not a training run (no config.json); train one with `circuits train`");
        // Read like --config: an unknown or mistyped field is an error, not silently dropped.
        return ConfigLoader.Load(new TrainingConfig(), ConfigFile, []).Validate();
    }

    /// <summary>The token shards the run was trained on, from its manifest; null when it names none (no manifest, or an import given none).</summary>
    public string? ReadDataDir() => File.Exists(ManifestFile) && Json.ReadFile<RunManifest>(ManifestFile).DataDir is { Length: > 0 } dir ? dir : null;
}

/// <summary>What a run was made from: enough to reproduce it.</summary>
/// <param name="DataDir">the token shards it was trained on; empty for an imported run given none</param>
/// <param name="Import">for a run made by <c>circuits import</c>: where its weights came from (absent otherwise)</param>
/// <param name="InitWeightsSha256">for a run started from <c>init_from</c>: SHA-256 of the weights it started from (absent otherwise)</param>
public sealed record RunManifest(
    int Format,
    ToolVersions Versions,
    string ConfigSha256,
    ulong Seed,
    int Threads,
    string DataDir,
    string ShardManifestSha256,
    string TokenizerHash,
    IReadOnlyList<RunSession> Sessions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RunImport? Import = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? InitWeightsSha256 = null);

/// <summary>One invocation of the trainer on this run (the first, then each resume).</summary>
public sealed record RunSession(string Started, long FromStep, string CommandLine);

/// <summary>
/// The source of an imported run (docs/official-models.md): which format, the files read with
/// their sizes and SHA-256, the source's tokenizer name, config keys that had no effect, and
/// what the import filled in.
/// </summary>
public sealed record RunImport(
    string Kind,
    IReadOnlyList<SourceFile> Files,
    string TokenizerName,
    IReadOnlyList<string> IgnoredKeys,
    IReadOnlyList<string> Notes);

/// <summary>One input file of an import.</summary>
public sealed record SourceFile(string Path, long Bytes, string Sha256)
{
    public static SourceFile Of(string path) => new(System.IO.Path.GetFullPath(path), new FileInfo(path).Length, Hashing.Sha256File(path));
}

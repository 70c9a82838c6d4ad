using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// What a corpus holds and how it was made. It contains no timestamps, so the same input gives
/// byte-identical corpus directories.
/// </summary>
public sealed record CorpusManifest(
    int Format,
    string Kind,
    ToolVersions Versions,
    IReadOnlyList<CorpusSourceInfo> Sources,
    long MaxFileBytes,
    double TrainFraction,
    double ValFraction,
    int FilesFound,
    int FilesKept,
    int DuplicatesRemoved,
    IReadOnlyDictionary<string, int> Skipped,
    IReadOnlyDictionary<string, CorpusSplitInfo> Splits,
    CorpusSyntheticInfo? Synthetic = null)
{
    public const string KindName = "sparse-circuits-corpus";
}

public sealed record CorpusSourceInfo(string Path, int FilesFound);

/// <summary>The generated simple-Python part of a corpus: its seed, requested size and the documents it added.</summary>
public sealed record CorpusSyntheticInfo(ulong Seed, long Bytes, int Documents, string PathPrefix);

public sealed record CorpusSplitInfo(string File, int Documents, long Bytes, string Sha256);

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
    IReadOnlyDictionary<string, CorpusSplitInfo> Splits)
{
    public const string KindName = "sparse-circuits-corpus";
}

public sealed record CorpusSourceInfo(string Path, int FilesFound);

public sealed record CorpusSplitInfo(string File, int Documents, long Bytes, string Sha256);

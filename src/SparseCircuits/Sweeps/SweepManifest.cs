using SparseCircuits.Core;

namespace SparseCircuits.Sweeps;

/// <summary>
/// <c>manifest.json</c> of a sweep: what it was made from (spec hash, seed, shared data, tool
/// versions) and every session that worked on it.
/// </summary>
public sealed record SweepManifest(
    int Format,
    ToolVersions Versions,
    string SpecSha256,
    ulong Seed,
    string TokenizerHash,
    string ShardManifestSha256,
    IReadOnlyList<SweepSession> Sessions)
{
    public const int CurrentFormat = 1;
}

/// <summary>One `circuits sweep` invocation: when, how (command line, parallel processes, threads each).</summary>
public sealed record SweepSession(string Started, string CommandLine, int Parallel, int ThreadsPerJob);

using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Describes a directory of token shards (<c>shards.json</c>): one <c>{split}.bin</c> per corpus
/// split, uint16 little-endian token ids, each document followed by the end-of-text token.
/// </summary>
public sealed record ShardManifest(
    int Format,
    string Kind,
    ToolVersions Versions,
    int VocabSize,
    int EndOfTextId,
    string TokenizerHash,
    string CorpusManifestSha256,
    IReadOnlyDictionary<string, ShardInfo> Splits)
{
    public const string FileName = "shards.json";
    /// <summary>Copy of the tokenizer that made the shards, so later stages need only the shard directory.</summary>
    public const string TokenizerDirName = "tokenizer";
    public const string KindName = "sparse-circuits-shards";
    public const int CurrentFormat = 1;

    public static string BinFile(CorpusSplit split) => split.ToString().ToLowerInvariant() + ".bin";

    /// <summary>Reads and checks a shard directory's manifest (kind, format, files present with the stated sizes).</summary>
    public static ShardManifest Load(string shardDir)
    {
        if (!Directory.Exists(shardDir)) throw new SparseCircuitsException($"shard directory not found: {shardDir}");
        string path = System.IO.Path.Combine(shardDir, FileName);
        if (!File.Exists(path)) throw new SparseCircuitsException($"{shardDir} holds no {FileName}; make shards with `circuits corpus tokenize`");
        var manifest = Json.ReadFile<ShardManifest>(path);
        if (manifest.Kind != KindName || manifest.Splits is null)
            throw new SparseCircuitsException($"{path} is not a token-shard manifest");
        if (manifest.Format != CurrentFormat)
            throw new SparseCircuitsException($"{path} has format {manifest.Format}; this version reads format {CurrentFormat}");
        foreach (var (name, info) in manifest.Splits)
        {
            string bin = System.IO.Path.Combine(shardDir, info.File);
            if (!File.Exists(bin)) throw new SparseCircuitsException($"shard file missing: {bin}");
            if (new FileInfo(bin).Length != info.Tokens * 2)
                throw new SparseCircuitsException($"shard {bin} has {new FileInfo(bin).Length} bytes, expected {info.Tokens * 2} ({name}: {info.Tokens} tokens); it is truncated or was replaced");
        }
        return manifest;
    }

    /// <summary>Opens one split's shard.</summary>
    public TokenShard Open(string shardDir, CorpusSplit split)
    {
        string name = split.ToString().ToLowerInvariant();
        if (!Splits.TryGetValue(name, out var info)) throw new SparseCircuitsException($"{shardDir} has no {name} shard");
        return new TokenShard(System.IO.Path.Combine(shardDir, info.File));
    }
}

public sealed record ShardInfo(string File, int Documents, long Tokens, long Bytes, string Sha256);

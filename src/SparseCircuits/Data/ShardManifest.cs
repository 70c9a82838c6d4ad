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

    public static string BinFile(CorpusSplit split, CorpusPart part = CorpusPart.All) => Key(split, part) + ".bin";

    /// <summary>The <see cref="Splits"/> key of a split or of one part of it: <c>val</c>, <c>val.real</c>, <c>val.synthetic</c>.</summary>
    public static string Key(CorpusSplit split, CorpusPart part = CorpusPart.All) =>
        split.ToString().ToLowerInvariant() + (part == CorpusPart.All ? "" : "." + part.ToString().ToLowerInvariant());

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

    /// <summary>Opens one split's shard, or the shard of its real or synthetic part.</summary>
    public TokenShard Open(string shardDir, CorpusSplit split, CorpusPart part = CorpusPart.All)
    {
        string name = Key(split, part);
        if (!Splits.TryGetValue(name, out var info))
            throw new SparseCircuitsException(part == CorpusPart.All ? $"{shardDir} has no {name} shard"
                : $"{shardDir} has no {name} shard (only corpora with synthetic programs are split into real and synthetic parts)");
        return new TokenShard(System.IO.Path.Combine(shardDir, info.File));
    }

    /// <summary>Whether the val and test splits also come as real and synthetic parts.</summary>
    public bool HasParts => Splits.ContainsKey(Key(CorpusSplit.Val, CorpusPart.Real));
}

public sealed record ShardInfo(string File, int Documents, long Tokens, long Bytes, string Sha256);

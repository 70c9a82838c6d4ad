using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Our tokenizer on disk (docs/tokenizer.md): a directory with
/// <list type="bullet">
/// <item><c>tokenizer.tiktoken</c>: one line per mergeable token, <c>base64(bytes) rank</c>, ranks
/// 0..N-1 in order, the 256 single bytes first (rank = byte value). The format tiktoken and
/// Microsoft.ML.Tokenizers' TiktokenTokenizer read.</item>
/// <item><c>tokenizer.meta.json</c>: <see cref="TokenizerMetadata"/>: format version, vocab size,
/// pre-tokenizer pattern, special tokens with ids, the ranks file's SHA-256, training stats.</item>
/// </list>
/// Both files are a pure function of the training input, so identical input gives identical bytes.
/// </summary>
public static class TokenizerFiles
{
    public const string RanksFile = "tokenizer.tiktoken";
    public const string MetadataFile = "tokenizer.meta.json";
    public const int Version = 1;
    public const string Kind = "tiktoken_bpe";

    /// <summary>
    /// Writes both files into <paramref name="directory"/>, each atomically; the metadata last, and
    /// it holds the ranks file's hash, so a reader never accepts a half-replaced pair.
    /// </summary>
    public static TokenizerMetadata Save(BpeModel model, string directory)
    {
        byte[] ranks = RanksBytes(model.Tokens);
        var metadata = new TokenizerMetadata(
            Format: Version,
            Kind: Kind,
            VocabSize: model.VocabSize,
            Pattern: model.Pattern,
            SpecialTokens: new SortedDictionary<string, int>(StringComparer.Ordinal) { [BpeModel.EndOfText] = model.EndOfTextId },
            RanksFile: RanksFile,
            RanksSha256: Hashing.Sha256(ranks),
            Training: model.Stats);
        AtomicFile.WriteAllBytes(Path.Combine(directory, RanksFile), ranks);
        AtomicFile.WriteJson(Path.Combine(directory, MetadataFile), metadata);
        return metadata;
    }

    public static byte[] RanksBytes(IReadOnlyList<byte[]> tokens)
    {
        var text = new StringBuilder(tokens.Count * 16);
        for (int rank = 0; rank < tokens.Count; rank++)
            text.Append(Convert.ToBase64String(tokens[rank])).Append(' ').Append(rank).Append('\n');
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// Parses a ranks file and checks what lossless encoding needs: ranks 0..N-1 each once, no
    /// token twice, and every single byte present. Errors name <paramref name="path"/> and the line.
    /// </summary>
    public static byte[][] ParseRanks(byte[] content, string path)
    {
        var tokens = new List<byte[]?>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in Encoding.ASCII.GetString(content).Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            string[] parts = line.Split(' ');
            if (parts.Length != 2 || !int.TryParse(parts[1], out int rank) || rank < 0)
                throw new SparseCircuitsException($"{path}:{lineNumber}: expected `base64 rank`");
            byte[] token;
            try { token = Convert.FromBase64String(parts[0]); }
            catch (FormatException) { throw new SparseCircuitsException($"{path}:{lineNumber}: token is not base64"); }
            if (token.Length == 0) throw new SparseCircuitsException($"{path}:{lineNumber}: empty token");
            if (!seen.Add(parts[0])) throw new SparseCircuitsException($"{path}:{lineNumber}: token listed twice");
            if (rank >= BpeTrainer.MaxVocabSize) throw new SparseCircuitsException($"{path}:{lineNumber}: rank {rank} is too large");
            while (tokens.Count <= rank) tokens.Add(null);
            if (tokens[rank] is not null) throw new SparseCircuitsException($"{path}:{lineNumber}: rank {rank} listed twice");
            tokens[rank] = token;
        }
        for (int rank = 0; rank < tokens.Count; rank++)
            if (tokens[rank] is null) throw new SparseCircuitsException($"{path}: rank {rank} is missing");
        var singles = new bool[256];
        foreach (var token in tokens)
            if (token!.Length == 1) singles[token[0]] = true;
        int missing = Array.IndexOf(singles, false);
        if (missing >= 0) throw new SparseCircuitsException($"{path}: no token for byte 0x{missing:x2}, so some text could not be encoded");
        return tokens.Select(t => t!).ToArray();
    }
}

/// <summary>The JSON beside the ranks file (<c>tokenizer.meta.json</c>), snake_case on disk.</summary>
public sealed record TokenizerMetadata(
    int Format,
    string Kind,
    int VocabSize,
    string Pattern,
    IReadOnlyDictionary<string, int> SpecialTokens,
    string RanksFile,
    string RanksSha256,
    BpeTrainingStats? Training);

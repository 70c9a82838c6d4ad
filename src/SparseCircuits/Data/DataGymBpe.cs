using System.Text;
using System.Text.Json;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// A BPE in GPT-2's "data-gym" files (<c>encoder.json</c> + <c>vocab.bpe</c>, as the paper's
/// tinypython_2k ships), read into mergeable ranks the way tiktoken builds them
/// (docs/tokenizer.md, "Data-gym files"): ranks 0..255 are the single bytes in the byte-level
/// alphabet's order (printable bytes first), then one rank per line of <c>vocab.bpe</c> after its
/// header line; <c>encoder.json</c> must give every token exactly that id. Encoding then merges
/// whichever adjacent pair concatenates to the lowest-ranked token (tiktoken), not the listed
/// merges in list order (GPT-2's reference encoder); the two can disagree, the ranks are what
/// the released models were trained with.
/// </summary>
/// <param name="Tokens">mergeable tokens by rank (= id)</param>
/// <param name="SpecialTokens"><c>&lt;|endoftext|&gt;</c> and <c>&lt;|startoftext|&gt;</c> with their ids, when encoder.json has them</param>
public sealed record DataGymBpe(byte[][] Tokens, IReadOnlyDictionary<string, int> SpecialTokens)
{
    public const string EncoderFile = "encoder.json";
    public const string MergesFile = "vocab.bpe";
    public const string StartOfText = "<|startoftext|>";

    /// <summary>The names encoder.json may hold besides mergeable tokens (tiktoken drops exactly these two).</summary>
    static readonly string[] SpecialNames = [BpeModel.EndOfText, StartOfText];

    /// <summary>Reads both files; any disagreement or malformed line is a one-line error naming the file.</summary>
    public static DataGymBpe Read(string encoderPath, string mergesPath)
    {
        Dictionary<string, int> encoder = ReadEncoder(encoderPath);
        List<byte[]> ranks = ReadRanks(mergesPath);

        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in SpecialNames)
            if (encoder.Remove(name, out int id)) specials[name] = id;

        // The check tiktoken makes (ranks must equal encoder.json's ids), as a one-line error.
        var byToken = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int rank = 0; rank < ranks.Count; rank++)
        {
            string key = ByteLevelAlphabet.Encode(ranks[rank]);
            if (!byToken.TryAdd(key, rank))
                throw Disagree(encoderPath, mergesPath, $"vocab.bpe makes \"{key}\" twice (ranks {byToken[key]} and {rank}), so some rank has no token");
            if (!encoder.TryGetValue(key, out int id))
                throw Disagree(encoderPath, mergesPath, $"vocab.bpe gives \"{key}\" rank {rank} but encoder.json lacks it");
            if (id != rank)
                throw Disagree(encoderPath, mergesPath, $"\"{key}\" has id {id} in encoder.json but rank {rank} from vocab.bpe");
        }
        foreach (var (token, id) in encoder)
            if (!byToken.ContainsKey(token))
                throw Disagree(encoderPath, mergesPath, $"encoder.json has \"{token}\" (id {id}) which vocab.bpe never makes");
        return new DataGymBpe(ranks.ToArray(), specials);
    }

    static SparseCircuitsException Disagree(string encoderPath, string mergesPath, string detail) =>
        new($"{encoderPath} disagrees with {mergesPath}: {detail}");

    static Dictionary<string, int> ReadEncoder(string path)
    {
        try
        {
            var encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(path))
                ?? throw new SparseCircuitsException($"{path} is empty");
            if (encoder.Count == 0) throw new SparseCircuitsException($"{path} holds no tokens");
            return new Dictionary<string, int>(encoder, StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new SparseCircuitsException($"{path} is not a JSON object of token -> id: {e.Message}");
        }
    }

    /// <summary>
    /// The single bytes in alphabet order, then one token per merge line. Like tiktoken, the first
    /// line (the "#version" header) is skipped and so is everything after the last newline.
    /// </summary>
    static List<byte[]> ReadRanks(string path)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path)); }
        catch (DecoderFallbackException) { throw new SparseCircuitsException($"{path} is not UTF-8 text"); }

        // Single bytes by the code point of their alphabet character: the printable bytes in byte
        // order, then the other 68 (U+0100..), which is tiktoken's rank order for them.
        var ranks = Enumerable.Range(0, 256).Select(b => (byte)b).OrderBy(b => (int)ByteLevelAlphabet.Encode(b))
            .Select(b => new[] { b }).ToList();

        string[] lines = text.Split('\n');
        for (int i = 1; i < lines.Length - 1; i++)
        {
            string[] parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) throw new SparseCircuitsException($"{path}:{i + 1}: expected two tokens separated by a space");
            byte[] first = ByteLevelAlphabet.Decode(parts[0])
                ?? throw new SparseCircuitsException($"{path}:{i + 1}: \"{parts[0]}\" is not in GPT-2's byte-level form");
            byte[] second = ByteLevelAlphabet.Decode(parts[1])
                ?? throw new SparseCircuitsException($"{path}:{i + 1}: \"{parts[1]}\" is not in GPT-2's byte-level form");
            ranks.Add([.. first, .. second]);
        }
        return ranks;
    }
}

namespace SparseCircuits.Data;

/// <summary>
/// A trained byte-level BPE: the mergeable tokens in rank order (rank = token id; the 256 single
/// bytes come first, byte value = id), then <c>&lt;|endoftext|&gt;</c> at id <c>Tokens.Count</c>.
/// </summary>
public sealed record BpeModel(IReadOnlyList<byte[]> Tokens, string Pattern, BpeTrainingStats Stats)
{
    public const string EndOfText = "<|endoftext|>";

    public int EndOfTextId => Tokens.Count;

    /// <summary>Mergeable tokens plus the one special token.</summary>
    public int VocabSize => Tokens.Count + 1;
}

/// <summary>
/// What training saw and did; every field is a pure function of the input documents and the
/// requested size, so these stats can live in the deterministic metadata file.
/// </summary>
/// <param name="TrainTokens">tokens the training documents become under the learned merges
/// (so <c>Bytes / TrainTokens</c> is the compression in bytes per token)</param>
/// <param name="DuplicateMerges">merges whose result already was a token (e.g. "ab"+"c" after
/// "a"+"bc"); they merge words but add no vocabulary entry</param>
public sealed record BpeTrainingStats(
    int RequestedVocabSize,
    long Documents,
    long Bytes,
    long PreTokens,
    int DistinctPreTokens,
    int Merges,
    int DuplicateMerges,
    long TrainTokens)
{
    public double BytesPerToken => TrainTokens == 0 ? 0 : (double)Bytes / TrainTokens;
}

using SparseCircuits.Data;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Tasks;

/// <summary>
/// Tokenizers for task tests, trained in memory (never the machine's Python library): one on
/// generated task text, so answers like <c>")</c> or <c>]\n</c> become real merged tokens as in
/// a code tokenizer, and a byte-level one with no merges at all.
/// </summary>
internal static class TaskTokenizer
{
    static readonly Lazy<CodeTokenizer> Trained = new(() =>
    {
        var documents = new List<string>();
        foreach (ContrastTask task in TaskRegistry.All)
            foreach (ContrastPair pair in task.Pairs(null, 60, seed: 99))
            {
                documents.Add(pair.Positive + pair.Tok);
                documents.Add(pair.Negative + pair.Alt);
            }
        return CodeTokenizer.FromModel(BpeTrainer.Train(documents, vocabSize: 800));
    });

    static readonly Lazy<CodeTokenizer> Bytes = new(() => CodeTokenizer.FromModel(BpeTrainer.Train(["x"], vocabSize: BpeTrainer.MinVocabSize)));

    public static CodeTokenizer Code => Trained.Value;

    /// <summary>Every byte its own token: <c>]]\n</c> and <c>]\n</c> both start with <c>]</c>.</summary>
    public static CodeTokenizer ByteLevel => Bytes.Value;
}

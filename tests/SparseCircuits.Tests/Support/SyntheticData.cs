using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;

namespace SparseCircuits.Tests.Support;

/// <summary>
/// A small corpus -> tokenizer -> shards pipeline built from generated Python-like text, shared by
/// the training and CLI tests (tests never depend on the machine's Python library).
/// </summary>
public sealed class SyntheticData : IDisposable
{
    readonly TempDir _dir = new();

    public string CorpusDir => _dir["corpus"];
    public string TokenizerDir => _dir["tokenizer"];
    public string ShardDir => _dir["shards"];
    public int VocabSize { get; }

    public SyntheticData() : this(CopyTaskDocuments(400, seed: 1), vocab: 300) { }

    /// <summary>
    /// Builds the pipeline from any documents (for tests with their own data); with
    /// <paramref name="generatedBytes"/> the corpus also holds generated programs, so its shards
    /// have real and synthetic parts.
    /// </summary>
    public static SyntheticData From(IEnumerable<string> documents, int vocab, long generatedBytes = 0) => new(documents, vocab, generatedBytes);

    SyntheticData(IEnumerable<string> documents, int vocab, long generatedBytes = 0)
    {
        int i = 0;
        foreach (string doc in documents) _dir.Write($"src/m{i % 10}/f{i++:0000}.py", doc);
        CorpusBuilder.Build(new CorpusOptions { Sources = [_dir["src"]], SyntheticBytes = generatedBytes, TrainFraction = 0.8, ValFraction = 0.1 },
            CorpusDir, NullProgress.Instance);
        TokenizerTraining.TrainFromCorpus(CorpusDir, TokenizerDir, vocab, NullProgress.Instance);
        VocabSize = ShardBuilder.Build(CorpusDir, TokenizerDir, ShardDir, NullProgress.Instance).VocabSize;
    }

    /// <summary>
    /// Lines "xs = 'qwkd' ; ys = 'qwkd'" with random letters: the second string is only
    /// predictable by copying the first, which needs attention, not just bigram statistics.
    /// </summary>
    public static IEnumerable<string> CopyTaskDocuments(int count, ulong seed)
    {
        var random = new SplitMix64(seed);
        for (int d = 0; d < count; d++)
        {
            var text = new StringBuilder();
            for (int line = 0; line < 20; line++)
            {
                string word = new(Enumerable.Range(0, 4).Select(_ => (char)('a' + (int)random.NextBelow(8))).ToArray());
                text.Append($"xs = '{word}' ; ys = '{word}'\n");
            }
            yield return text.ToString();
        }
    }

    public void Dispose() => _dir.Dispose();
}

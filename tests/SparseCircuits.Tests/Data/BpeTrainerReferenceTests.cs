using System.Text;
using CsCheck;
using SparseCircuits.Data;
using Xunit;

namespace SparseCircuits.Tests.Data;

/// <summary>
/// The incremental trainer against the textbook algorithm (recount every pair before every
/// merge), on random small corpora: same merges, same order.
/// </summary>
public sealed class BpeTrainerReferenceTests
{
    static List<byte[]> ReferenceTrain(IEnumerable<string> documents, int vocabSize)
    {
        var regex = PreTokenizerPattern.CreateRegex(PreTokenizerPattern.Paper);
        var counts = new Dictionary<string, long>();
        foreach (string doc in documents)
            foreach (System.Text.RegularExpressions.Match m in regex.Matches(doc))
                counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
        var words = counts.Select(kv => (Symbols: Encoding.UTF8.GetBytes(kv.Key).Select(b => (int)b).ToList(), Count: kv.Value)).ToList();
        var tokens = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();

        while (tokens.Count < vocabSize - 1)
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First().Key;

            byte[] merged = [.. tokens[best.Item1], .. tokens[best.Item2]];
            int id = tokens.FindIndex(t => t.AsSpan().SequenceEqual(merged));
            if (id < 0)
            {
                id = tokens.Count;
                tokens.Add(merged);
            }
            foreach (var (symbols, _) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] = id;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }
        return tokens;
    }

    [Fact]
    public void Matches_the_recount_everything_algorithm_on_random_corpora()
    {
        // Few distinct characters, so words repeat, pairs tie and merges stack up.
        var piece = Gen.OneOfConst("a", "b", "ab", "ba", " ", "  ", "\n", "1", "23", "é", "(", ")", "_", "self", ".");
        var document = piece.Array[1, 30].Select(p => string.Concat(p));
        var corpus = Gen.Select(document.Array[1, 8], Gen.Int[257, 320]);

        corpus.Sample((documents, vocab) =>
        {
            var expected = ReferenceTrain(documents, vocab);
            var actual = BpeTrainer.Train(documents, vocab).Tokens;
            Assert.Equal(expected.Select(Convert.ToBase64String), actual.Select(Convert.ToBase64String));
        }, iter: 200, threads: 1);
    }
}

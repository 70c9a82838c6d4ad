using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;
using Xunit;

namespace SparseCircuits.Tests.Data;

public sealed class BpeTrainerTests
{
    static string[] MergedTokens(BpeModel model) =>
        model.Tokens.Skip(256).Select(t => Encoding.UTF8.GetString(t)).ToArray();

    [Fact]
    public void Learns_the_hand_computed_merges_of_a_single_word()
    {
        // "aaabdaaabac" is one pre-token. Adjacent pairs: aa 4, ab 2, the rest 1 -> "aa".
        // Then [aa a b d aa a b a c]: (aa,a) 2 and (a,b) 2 tie; (97,98) < (256,97) -> "ab".
        // Then [aa ab d aa ab a c]: (aa,ab) 2 -> "aaab", leaving [aaab d aaab a c].
        var model = BpeTrainer.Train(["aaabdaaabac"], vocabSize: 260);

        Assert.Equal(["aa", "ab", "aaab"], MergedTokens(model));
        Assert.Equal(260, model.VocabSize);
        Assert.Equal(259, model.EndOfTextId);
        Assert.Equal(new BpeTrainingStats(260, Documents: 1, Bytes: 11, PreTokens: 1, DistinctPreTokens: 1,
            Merges: 3, DuplicateMerges: 0, TrainTokens: 5), model.Stats);
    }

    [Fact]
    public void Counts_pre_tokens_across_documents_and_breaks_ties_by_smaller_ids()
    {
        // Pre-tokens: "low" x2 (two documents), " lower" x1.
        // (l,o) 3 and (o,w) 3 tie -> (108,111) "lo"; then (lo,w) 3 -> "low";
        // then all pairs have count 1 and (32,257) is the smallest -> " low".
        var model = BpeTrainer.Train(["low lower", "low"], vocabSize: 260);

        Assert.Equal(["lo", "low", " low"], MergedTokens(model));
        Assert.Equal(3, model.Stats.PreTokens);
        Assert.Equal(2, model.Stats.DistinctPreTokens);
    }

    [Fact]
    public void Merges_never_cross_pre_token_boundaries()
    {
        // "ab ab ab ab" pre-tokenizes to "ab", " ab" x3: " a" can merge, "b " never can.
        var model = BpeTrainer.Train(["ab ab ab ab"], vocabSize: 270);

        Assert.DoesNotContain(MergedTokens(model), t => t.Contains("b "));
        Assert.Equal(["ab", " ab"], MergedTokens(model));
    }

    [Fact]
    public void Single_byte_tokens_come_first_in_byte_order()
    {
        var model = BpeTrainer.Train(TokenizerTestData.PythonDocuments, 300);

        for (int b = 0; b < 256; b++) Assert.Equal([(byte)b], model.Tokens[b]);
        Assert.Equal(299, model.Tokens.Count);
        Assert.Equal(model.Tokens.Count, model.Tokens.Select(Convert.ToBase64String).Distinct().Count());
    }

    [Fact]
    public void Stops_early_and_says_so_when_the_documents_run_out_of_pairs()
    {
        var progress = new RecordingProgress();
        var model = BpeTrainer.Train(["abc"], vocabSize: 2048, progress);

        Assert.Equal(["ab", "abc"], MergedTokens(model));
        Assert.Equal(259, model.VocabSize);
        Assert.Contains(progress.Messages, m => m.Contains("259") && m.Contains("2048"));
        Assert.Contains("counting words", progress.Tasks);
        Assert.Contains("merging", progress.Tasks);
    }

    [Fact]
    public void Smallest_vocabulary_has_no_merges()
    {
        var model = BpeTrainer.Train(TokenizerTestData.PythonDocuments, BpeTrainer.MinVocabSize);

        Assert.Equal(257, model.VocabSize);
        Assert.Equal(0, model.Stats.Merges);
        Assert.Equal(model.Stats.Bytes, model.Stats.TrainTokens);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(65536)]
    [InlineData(-5)]
    public void Rejects_vocabulary_sizes_outside_the_range(int vocab)
    {
        var e = Assert.Throws<SparseCircuitsException>(() => BpeTrainer.Train(["abc"], vocab));
        Assert.Contains("vocab", e.Message);
        Assert.Contains("257", e.Message);
        Assert.Contains("65535", e.Message);
        Assert.Contains(vocab.ToString(), e.Message);
    }

    [Fact]
    public void Rejects_documents_with_unpaired_surrogates()
    {
        var e = Assert.Throws<SparseCircuitsException>(() => BpeTrainer.Train(["fine", "x = '\uD800'"], 300));
        Assert.Contains("surrogate", e.Message);
    }

    [Fact]
    public void Same_input_gives_byte_identical_files_whatever_the_document_order()
    {
        using var dir = new TempDirectory();
        var docs = TokenizerTestData.PythonDocuments;
        // Many documents, so the parallel word count really splits them between workers.
        var many = Enumerable.Range(0, 200).Select(i => docs[i % docs.Length] + $"\nx{i} = {i}\n").ToArray();
        var shuffled = many.OrderBy(d => Hashing.Sha256(Encoding.UTF8.GetBytes(d))).ToArray();

        TokenizerFiles.Save(BpeTrainer.Train(many, 500), dir["a"]);
        TokenizerFiles.Save(BpeTrainer.Train(many, 500), dir["b"]);
        TokenizerFiles.Save(BpeTrainer.Train(shuffled, 500), dir["c"]);

        foreach (string file in new[] { TokenizerFiles.RanksFile, TokenizerFiles.MetadataFile })
        {
            byte[] a = File.ReadAllBytes(Path.Combine(dir["a"], file));
            Assert.Equal(a, File.ReadAllBytes(Path.Combine(dir["b"], file)));
            Assert.Equal(a, File.ReadAllBytes(Path.Combine(dir["c"], file)));
        }
    }

    [Fact]
    public void Train_tokens_match_what_the_tokenizer_produces()
    {
        var model = BpeTrainer.Train(TokenizerTestData.PythonDocuments, 400);
        var tokenizer = CodeTokenizer.FromModel(model);

        long encoded = TokenizerTestData.PythonDocuments.Sum(d => (long)tokenizer.Encode(d).Length);
        Assert.Equal(model.Stats.TrainTokens, encoded);
    }

    sealed class RecordingProgress : IProgressReporter
    {
        public readonly List<string> Messages = new();
        public readonly List<string> Tasks = new();
        public IProgressTask Start(string description, double total, string unit)
        {
            Tasks.Add(description);
            return NullProgress.Instance;
        }
        public void Info(string message) => Messages.Add(message);
    }
}

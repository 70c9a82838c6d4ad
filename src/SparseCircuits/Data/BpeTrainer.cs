using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Byte-level BPE training (GPT-2 style): split documents into pre-tokens with
/// <see cref="PreTokenizerPattern"/>, count distinct pre-tokens, then repeatedly merge the most
/// frequent adjacent pair of tokens until the vocabulary is full.
/// </summary>
/// <remarks>
/// Merging is incremental: pair counts, an index pair -> words that contain it, and a max-heap of
/// pairs with lazy deletion. A merge touches only the words that contain the merged pair, so the
/// cost is proportional to those words, not to the corpus. Ties go to the smaller (left id, right
/// id), which makes the result a pure function of the pre-token counts: the order in which
/// documents or words are visited never matters, so counting can run in parallel.
/// </remarks>
public static class BpeTrainer
{
    public const int DefaultVocabSize = 2048;
    /// <summary>256 bytes + the special token: the smallest vocabulary that can encode anything.</summary>
    public const int MinVocabSize = 257;
    /// <summary>Ids must fit in an unsigned 16-bit token shard.</summary>
    public const int MaxVocabSize = 65535;

    public static void ValidateVocabSize(int vocabSize)
    {
        if (vocabSize is < MinVocabSize or > MaxVocabSize)
            throw new SparseCircuitsException($"vocab must be between {MinVocabSize} and {MaxVocabSize} (got {vocabSize})");
    }

    /// <summary>
    /// Trains on <paramref name="documents"/> (streamed once). The vocabulary is
    /// <paramref name="vocabSize"/> tokens unless the documents run out of pairs to merge first, in
    /// which case it is smaller and <see cref="IProgressReporter.Info"/> says so.
    /// </summary>
    /// <param name="documentCount">expected number of documents, for the progress bar only</param>
    public static BpeModel Train(IEnumerable<string> documents, int vocabSize = DefaultVocabSize,
        IProgressReporter? progress = null, int? documentCount = null)
    {
        ValidateVocabSize(vocabSize);
        progress ??= NullProgress.Instance;

        WordCounts counts;
        using (var task = progress.Start("counting words", documentCount ?? (documents as ICollection<string>)?.Count ?? 0, "docs"))
            counts = CountWords(documents, PreTokenizerPattern.Paper, task);

        var merger = new Merger(counts.Words);
        int mergesWanted = vocabSize - 1 - 256;
        using (var task = progress.Start("merging", mergesWanted, "merges"))
            merger.Run(mergesWanted, task);

        if (merger.Tokens.Count < vocabSize - 1)
            progress.Info($"documents ran out of pairs to merge: vocabulary is {merger.Tokens.Count + 1} tokens, not {vocabSize}");

        var stats = new BpeTrainingStats(
            RequestedVocabSize: vocabSize,
            Documents: counts.Documents,
            Bytes: counts.Bytes,
            PreTokens: counts.PreTokens,
            DistinctPreTokens: counts.Words.Count,
            Merges: merger.Tokens.Count - 256,
            DuplicateMerges: merger.DuplicateMerges,
            TrainTokens: merger.TotalTokens());
        return new BpeModel(merger.Tokens, PreTokenizerPattern.Paper, stats);
    }

    sealed class WordCounts
    {
        public readonly Dictionary<string, long> Words = new(StringComparer.Ordinal);
        public long Documents, Bytes, PreTokens;

        public void Count(string text, System.Text.RegularExpressions.Regex regex)
        {
            var lookup = Words.GetAlternateLookup<ReadOnlySpan<char>>();
            foreach (var match in regex.EnumerateMatches(text))
            {
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, text.AsSpan(match.Index, match.Length), out _)++;
                PreTokens++;
            }
            Documents++;
            Bytes += Utf8Text.ByteCount(text);
        }

        public void Add(WordCounts other)
        {
            foreach (var (word, count) in other.Words)
                CollectionsMarshal.GetValueRefOrAddDefault(Words, word, out _) += count;
            Documents += other.Documents;
            Bytes += other.Bytes;
            PreTokens += other.PreTokens;
        }
    }

    /// <summary>
    /// One worker per core, each with its own dictionary (sums are order-independent, so the
    /// merged counts are the same however documents were split) and its own Regex (an instance
    /// serves one thread at a time). Fixed workers rather than Parallel.ForEach's local state,
    /// which is re-created whenever the loop recycles its tasks: each time a new Regex to compile
    /// and another large dictionary to merge.
    /// </summary>
    static WordCounts CountWords(IEnumerable<string> documents, string pattern, IProgressTask task)
    {
        const int BatchSize = 16;
        var total = new WordCounts();
        using var source = documents.GetEnumerator();
        int workers = Environment.ProcessorCount;
        ParallelErrors.Run(() => Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            var local = new WordCounts();
            var regex = PreTokenizerPattern.CreateRegex(pattern);
            var batch = new List<string>(BatchSize);
            while (true)
            {
                batch.Clear();
                lock (source)
                {
                    while (batch.Count < BatchSize && source.MoveNext()) batch.Add(source.Current);
                }
                if (batch.Count == 0) break;
                foreach (string text in batch) local.Count(text, regex);
                task.Advance(batch.Count);
            }
            lock (total) total.Add(local);
        }));
        return total;
    }

    /// <summary>The merge loop over the distinct pre-tokens ("words"), each a sequence of token ids.</summary>
    sealed class Merger
    {
        readonly int[][] _symbols;
        readonly int[] _lengths;
        readonly long[] _freq;
        readonly int[] _visited; // merge number that last processed each word, to skip repeats in an index list
        readonly Dictionary<uint, long> _pairCounts = new();
        readonly Dictionary<uint, List<int>> _pairWords = new();
        readonly PriorityQueue<uint, (long Count, uint Pair)> _heap = new(HeapOrder.Instance);
        readonly Dictionary<byte[], int> _tokenIds = new(ByteArrayComparer.Instance);
        readonly HashSet<uint> _grown = new();
        int _mergeNumber;

        public readonly List<byte[]> Tokens = new();
        public int DuplicateMerges { get; private set; }

        public Merger(Dictionary<string, long> words)
        {
            for (int b = 0; b < 256; b++)
            {
                byte[] token = [(byte)b];
                Tokens.Add(token);
                _tokenIds[token] = b;
            }

            int n = words.Count;
            _symbols = new int[n][];
            _lengths = new int[n];
            _freq = new long[n];
            _visited = new int[n];
            int w = 0;
            foreach (var (word, count) in words)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(word);
                var symbols = new int[bytes.Length];
                for (int i = 0; i < bytes.Length; i++) symbols[i] = bytes[i];
                _symbols[w] = symbols;
                _lengths[w] = symbols.Length;
                _freq[w] = count;
                for (int i = 0; i + 1 < symbols.Length; i++)
                {
                    uint pair = Pair(symbols[i], symbols[i + 1]);
                    CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, pair, out _) += count;
                    AddWordToIndex(pair, w);
                }
                w++;
            }
            foreach (var (pair, count) in _pairCounts) _heap.Enqueue(pair, (count, pair));
        }

        // Ids stay below 65536, so a pair packs into 32 bits whose natural order is (left, right) and
        // whose hash (the value itself) is distinct per pair.
        static uint Pair(int left, int right) => ((uint)left << 16) | (uint)right;

        void AddWordToIndex(uint pair, int word)
        {
            ref List<int>? list = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairWords, pair, out _);
            list ??= new List<int>();
            // Words are indexed one at a time, so a repeat of this word can only be the last entry.
            if (list.Count == 0 || list[^1] != word) list.Add(word);
        }

        public void Run(int mergesWanted, IProgressTask task)
        {
            int target = 256 + mergesWanted;
            while (Tokens.Count < target && _heap.TryDequeue(out uint pair, out var queued))
            {
                long count = _pairCounts.GetValueOrDefault(pair);
                if (count != queued.Count)
                {
                    // Stale entry (lazy deletion). Counts of existing pairs only shrink, and every
                    // growth is pushed afresh below, so a stale entry is an upper bound: requeue
                    // it at its true count and look again.
                    if (count > 0 && count < queued.Count) _heap.Enqueue(pair, (count, pair));
                    continue;
                }
                Merge(pair);
                task.Set(Tokens.Count - 256);
            }
        }

        void Merge(uint pair)
        {
            int left = (int)(pair >> 16), right = (int)(pair & 0xFFFF);
            byte[] merged = [.. Tokens[left], .. Tokens[right]];
            if (!_tokenIds.TryGetValue(merged, out int id))
            {
                id = Tokens.Count;
                Tokens.Add(merged);
                _tokenIds[merged] = id;
            }
            else
            {
                DuplicateMerges++;
            }

            _mergeNumber++;
            _grown.Clear();
            foreach (int w in _pairWords[pair])
            {
                if (_visited[w] == _mergeNumber) continue;
                _visited[w] = _mergeNumber;
                MergeWord(w, left, right, id);
            }
            Debug.Assert(_pairCounts[pair] == 0);
            _pairWords.Remove(pair);
            _pairCounts.Remove(pair);

            // Pairs next to the new token are new (or, after a duplicate merge, grew): queue each
            // once, at its final count.
            foreach (uint p in _grown)
            {
                long c = _pairCounts[p];
                if (c > 0) _heap.Enqueue(p, (c, p));
            }
        }

        /// <summary>
        /// Rewrites one word with (left, right) -> id, left to right without overlap, and moves
        /// the word's pair counts from its old pairs to its new ones.
        /// </summary>
        void MergeWord(int w, int left, int right, int id)
        {
            int[] s = _symbols[w];
            int len = _lengths[w];
            int first = -1;
            for (int i = 0; i + 1 < len; i++)
            {
                if (s[i] == left && s[i + 1] == right) { first = i; break; }
            }
            if (first < 0) return; // the index keeps words that have since lost the pair

            long f = _freq[w];
            // Only pairs from just before the first occurrence onward can change.
            int from = Math.Max(first - 1, 0);
            for (int i = from; i + 1 < len; i++)
                _pairCounts[Pair(s[i], s[i + 1])] -= f;

            int j = from;
            for (int i = from; i < len;)
            {
                if (i + 1 < len && s[i] == left && s[i + 1] == right) { s[j++] = id; i += 2; }
                else s[j++] = s[i++];
            }
            _lengths[w] = len = j;

            for (int i = from; i + 1 < len; i++)
            {
                uint p = Pair(s[i], s[i + 1]);
                CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, p, out _) += f;
                if (s[i] == id || s[i + 1] == id)
                {
                    AddWordToIndex(p, w);
                    _grown.Add(p);
                }
            }
        }

        public long TotalTokens()
        {
            long total = 0;
            for (int w = 0; w < _lengths.Length; w++) total += _lengths[w] * _freq[w];
            return total;
        }
    }

    /// <summary>Highest count first; ties to the smaller (left id, right id).</summary>
    sealed class HeapOrder : IComparer<(long Count, uint Pair)>
    {
        public static readonly HeapOrder Instance = new();
        public int Compare((long Count, uint Pair) a, (long Count, uint Pair) b) =>
            a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Pair.CompareTo(b.Pair);
    }

    sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] bytes)
        {
            var h = new HashCode();
            h.AddBytes(bytes);
            return h.ToHashCode();
        }
    }
}

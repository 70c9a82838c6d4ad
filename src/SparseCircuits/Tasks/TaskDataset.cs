using SparseCircuits.Core;
using SparseCircuits.Data;

namespace SparseCircuits.Tasks;

/// <summary>
/// The encoded pairs of one task (built-in or custom) and split, ready for evaluation or
/// pruning, with an account of what was left out: pairs dropped per <see cref="DropReason"/>,
/// and, when a built-in task cannot be expressed with the tokenizer, why it is unavailable.
/// </summary>
public sealed class TaskDataset
{
    /// <summary>The task name, or the custom file's name.</summary>
    public required string Name { get; init; }

    /// <summary>The split these pairs belong to; null when they are all splits together.</summary>
    public required TaskSplit? Split { get; init; }

    public required IReadOnlyList<EncodedPair> Pairs { get; init; }

    /// <summary>Pairs examined (usable plus dropped).</summary>
    public required int Candidates { get; init; }

    public required IReadOnlyDictionary<DropReason, int> Dropped { get; init; }

    /// <summary>Why this task cannot be used with the tokenizer; null when it can.</summary>
    public string? UnavailableReason { get; init; }

    /// <summary>True when a built-in task's generator ran out of new pairs before the requested count.</summary>
    public bool Exhausted { get; init; }

    public bool Available => UnavailableReason is null;

    /// <summary>Share of examined pairs that were usable.</summary>
    public double Yield => Candidates == 0 ? 0 : Pairs.Count / (double)Candidates;

    /// <summary>
    /// Up to <paramref name="count"/> usable pairs of a built-in task from <paramref name="split"/>
    /// (null: any split), in stream order (<see cref="ContrastTask.Stream"/>). Stops early and
    /// reports the task unavailable when, after <see cref="TaskDatasetOptions.MinCandidates"/>
    /// pairs, fewer than <see cref="TaskDatasetOptions.MinYield"/> of them were usable.
    /// </summary>
    public static TaskDataset FromTask(ContrastTask task, CodeTokenizer tokenizer, TaskSplit? split, int count, ulong seed = 0,
        TaskDatasetOptions? options = null)
    {
        options = (options ?? new TaskDatasetOptions()).Validate();
        CheckCount(count);
        var pairs = new List<EncodedPair>();
        var dropped = new Dictionary<DropReason, int>();
        var examples = new Dictionary<DropReason, ContrastPair>();
        int candidates = 0;
        string? unavailable = null;
        bool exhausted = true;
        foreach (var (pair, pairSplit) in task.Stream(seed, options.Context))
        {
            if (split is not null && pairSplit != split) continue;
            candidates++;
            EncodedPair? encoded = PairEncoder.TryEncode(pair, tokenizer, options, out DropReason reason);
            if (encoded is null)
            {
                dropped[reason] = dropped.GetValueOrDefault(reason) + 1;
                examples.TryAdd(reason, pair);
            }
            else
            {
                pairs.Add(encoded);
            }
            if (pairs.Count >= count)
            {
                exhausted = false;
                break;
            }
            if (candidates >= options.MinCandidates && pairs.Count < options.MinYield * candidates)
            {
                unavailable = LowYieldReason(pairs.Count, candidates, dropped, examples, tokenizer);
                exhausted = false;
                break;
            }
        }
        if (unavailable is null && pairs.Count == 0)
            unavailable = candidates == 0 ? "the generator produced no pairs for this split" : LowYieldReason(0, candidates, dropped, examples, tokenizer);
        return new TaskDataset
        {
            Name = task.Name, Split = split, Pairs = pairs, Candidates = candidates, Dropped = dropped,
            UnavailableReason = unavailable, Exhausted = exhausted && unavailable is null,
        };
    }

    static string LowYieldReason(int usable, int candidates, Dictionary<DropReason, int> dropped, Dictionary<DropReason, ContrastPair> examples,
        CodeTokenizer tokenizer)
    {
        var (reason, n) = dropped.MaxBy(kv => kv.Value);
        string detail = PairEncoder.Describe(reason);
        if (reason == DropReason.SameAnswerToken && examples.TryGetValue(reason, out var example))
        {
            int[] ids = tokenizer.Encode(example.Tok);
            if (ids.Length > 0) detail += $" (e.g. '{tokenizer.TokenText(ids[0])}')";
        }
        return $"only {usable} of {candidates} pairs usable with this tokenizer; {n} dropped because {detail}";
    }

    /// <summary>
    /// The pairs of a custom JSONL file (<see cref="CustomTaskFile"/>) in <paramref name="split"/>
    /// (null: every line), at most <paramref name="count"/>. Text pairs are checked like built-in
    /// ones and dropped (counted) when unusable; token ids outside the vocabulary are an error
    /// naming the line.
    /// </summary>
    public static TaskDataset FromFile(string path, CodeTokenizer tokenizer, TaskSplit? split, int? count = null, TaskDatasetOptions? options = null)
    {
        CheckCount(count);
        return FromLines(CustomTaskFile.Read(path), Path.GetFileNameWithoutExtension(path), path, tokenizer, split, count, options);
    }

    /// <summary>
    /// The hand-written pairs of <paramref name="task"/> (<see cref="HandwrittenPairs"/>), at most
    /// <paramref name="count"/>, checked like built-in pairs; every hand-written pair is a test pair.
    /// </summary>
    public static TaskDataset FromHandwritten(ContrastTask task, CodeTokenizer tokenizer, int? count = null, TaskDatasetOptions? options = null)
    {
        CheckCount(count);
        return FromLines(HandwrittenPairs.Read(task.Name), task.Name, HandwrittenPairs.Source(task.Name), tokenizer, TaskSplit.Test, count, options);
    }

    static void CheckCount(int? count)
    {
        if (count is < 1) throw new SparseCircuitsException($"pair count must be >= 1 (got {count})");
    }

    static TaskDataset FromLines(IReadOnlyList<CustomPair> lines, string name, string path, CodeTokenizer tokenizer, TaskSplit? split, int? count, TaskDatasetOptions? options)
    {
        options = (options ?? new TaskDatasetOptions()).Validate();
        var pairs = new List<EncodedPair>();
        var dropped = new Dictionary<DropReason, int>();
        var examples = new Dictionary<DropReason, ContrastPair>();
        int candidates = 0;
        foreach (CustomPair line in lines)
        {
            if (split is not null && line.Split != split) continue;
            if (count is int max && pairs.Count >= max) break;
            candidates++;
            if (line.Ids is EncodedPair ids)
            {
                CheckIds(ids.Positive, "positive_ids", tokenizer, path, line.Line);
                CheckIds(ids.Negative, "negative_ids", tokenizer, path, line.Line);
                CheckIds([ids.TokId], "tok_id", tokenizer, path, line.Line);
                CheckIds([ids.AltId], "alt_id", tokenizer, path, line.Line);
                if (Math.Max(ids.Positive.Length, ids.Negative.Length) > options.MaxPromptTokens)
                {
                    dropped[DropReason.TooLong] = dropped.GetValueOrDefault(DropReason.TooLong) + 1;
                    continue;
                }
                pairs.Add(ids);
                continue;
            }
            EncodedPair? encoded = PairEncoder.TryEncode(line.Text!, tokenizer, options, out DropReason reason);
            if (encoded is null)
            {
                dropped[reason] = dropped.GetValueOrDefault(reason) + 1;
                examples.TryAdd(reason, line.Text!);
            }
            else
            {
                pairs.Add(encoded);
            }
        }
        string? unavailable = null;
        if (candidates == 0)
            unavailable = $"{path} has no {(split is null ? "" : split.Value.Name() + " ")}pairs (lines without a \"split\" field are test pairs)";
        else if (pairs.Count == 0)
            unavailable = LowYieldReason(0, candidates, dropped, examples, tokenizer);
        return new TaskDataset
        {
            Name = name, Split = split, Pairs = pairs, Candidates = candidates, Dropped = dropped,
            UnavailableReason = unavailable,
        };
    }

    static void CheckIds(int[] ids, string field, CodeTokenizer tokenizer, string path, int line)
    {
        foreach (int id in ids)
            if (id < 0 || id >= tokenizer.VocabSize)
                throw new SparseCircuitsException($"{path}:{line}: {field}: token id {id} is outside the vocabulary 0..{tokenizer.VocabSize - 1}");
    }
}

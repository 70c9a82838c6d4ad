using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>
/// Where the task suite plugs into pruning: a built-in task or a custom JSONL file becomes a
/// <see cref="BinaryTask"/> (each contrast pair gives two prompts with swapped answers).
/// </summary>
public static class TaskSource
{
    /// <summary>Pairs per split used for pruning by default: train learns masks, val picks k, test validates.</summary>
    public const int DefaultTrainPairs = 256, DefaultValPairs = 128, DefaultTestPairs = 128;

    public static BinaryTask FromBuiltIn(string name, CodeTokenizer tokenizer, ulong seed = 0, TaskDatasetOptions? options = null,
        int trainPairs = DefaultTrainPairs, int valPairs = DefaultValPairs, int testPairs = DefaultTestPairs)
    {
        ContrastTask task = TaskRegistry.Get(name);
        TaskDataset Split(TaskSplit split, int count)
        {
            var data = TaskDataset.FromTask(task, tokenizer, split, count, seed, options);
            if (!data.Available) throw new SparseCircuitsException($"task {name} is unavailable with this tokenizer: {data.UnavailableReason}");
            return data;
        }
        return new BinaryTask(name, TaskExample.FromPairs(Split(TaskSplit.Train, trainPairs).Pairs), TaskExample.FromPairs(Split(TaskSplit.Validation, valPairs).Pairs),
            TaskExample.FromPairs(Split(TaskSplit.Test, testPairs).Pairs));
    }

    /// <summary>
    /// A custom task file. Lines carry an optional split; when the file does not give both train
    /// and val lines, all its pairs are shuffled with <paramref name="seed"/> and split 50/25/25.
    /// </summary>
    public static BinaryTask FromFile(string path, CodeTokenizer tokenizer, ulong seed = 0, TaskDatasetOptions? options = null)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        var train = TaskDataset.FromFile(path, tokenizer, TaskSplit.Train, options: options).Pairs;
        var val = TaskDataset.FromFile(path, tokenizer, TaskSplit.Validation, options: options).Pairs;
        var test = TaskDataset.FromFile(path, tokenizer, TaskSplit.Test, options: options).Pairs;
        if (train.Count > 0 && val.Count > 0 && test.Count > 0) return new BinaryTask(name, TaskExample.FromPairs(train), TaskExample.FromPairs(val), TaskExample.FromPairs(test));

        var all = TaskDataset.FromFile(path, tokenizer, split: null, options: options).Pairs.ToList();
        if (all.Count < 4) throw new SparseCircuitsException($"{path} has {all.Count} usable pairs; pruning needs at least 4 (train, val and test each get some)");
        var random = new SplitMix64(seed);
        for (int i = all.Count - 1; i > 0; i--)
        {
            int j = (int)random.NextBelow((ulong)i + 1);
            (all[i], all[j]) = (all[j], all[i]);
        }
        int quarter = Math.Max(1, all.Count / 4);
        return new BinaryTask(name, TaskExample.FromPairs(all.Skip(2 * quarter)), TaskExample.FromPairs(all.Take(quarter)), TaskExample.FromPairs(all.Skip(quarter).Take(quarter)));
    }

    const string BuiltInPrefix = "builtin:", ContextKey = "?context=";

    /// <summary>
    /// The <c>task.source</c> a circuit records for a built-in task: <c>builtin:NAME?context=short</c>.
    /// Parsed only by <see cref="TryParseBuiltIn"/>.
    /// </summary>
    public static string BuiltInSource(string name, PromptContext context) =>
        $"{BuiltInPrefix}{name}{ContextKey}{context.ToString().ToLowerInvariant()}";

    /// <summary>
    /// Reads a <see cref="BuiltInSource"/> string. A source without a context was written before
    /// short prompts existed, when every prompt had the scaffold.
    /// </summary>
    public static bool TryParseBuiltIn(string source, out string name, out PromptContext context)
    {
        name = "";
        context = PromptContext.Scaffold;
        if (!source.StartsWith(BuiltInPrefix, StringComparison.Ordinal)) return false;
        name = source[BuiltInPrefix.Length..];
        int at = name.IndexOf(ContextKey, StringComparison.Ordinal);
        if (at < 0) return true;
        string value = name[(at + ContextKey.Length)..];
        name = name[..at];
        if (!Enum.TryParse(value, ignoreCase: true, out context) || !Enum.IsDefined(context))
            throw new SparseCircuitsException($"task source '{source}' names an unknown prompt context '{value}' (short or scaffold)");
        return true;
    }
}

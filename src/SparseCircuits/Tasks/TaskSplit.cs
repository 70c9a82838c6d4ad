using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>
/// Train (for pruning), validation (for choosing k and hyperparameters) and test (only for
/// reported numbers).
/// </summary>
public enum TaskSplit { Train, Validation, Test }

public static class TaskSplits
{
    /// <summary>Percent of generated pairs in train and validation; the rest is test.</summary>
    public const int TrainPercent = 60, ValidationPercent = 20;

    /// <summary>
    /// A pair's split, from SHA-256 of its two prompts (in sorted order, so swapping the roles
    /// does not move it). It depends on nothing else: the same pair lands in the same split for
    /// every seed and every requested size, so splits never overlap.
    /// </summary>
    public static TaskSplit Of(ContrastPair pair)
    {
        string a = pair.Positive, b = pair.Negative;
        if (string.CompareOrdinal(a, b) > 0) (a, b) = (b, a);
        byte[] digest = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(a + "\u0000" + b));
        int bucket = (int)(BitConverter.ToUInt64(digest, 0) % 100);
        return bucket < TrainPercent ? TaskSplit.Train : bucket < TrainPercent + ValidationPercent ? TaskSplit.Validation : TaskSplit.Test;
    }

    /// <summary>The name used on the command line and in files.</summary>
    public static string Name(this TaskSplit split) => split switch
    {
        TaskSplit.Train => "train",
        TaskSplit.Validation => "val",
        _ => "test",
    };

    /// <summary>Parses train | val | validation | test (case-insensitive); anything else is a user error.</summary>
    public static TaskSplit Parse(string text, string what = "split") => text.Trim().ToLowerInvariant() switch
    {
        "train" => TaskSplit.Train,
        "val" or "valid" or "validation" => TaskSplit.Validation,
        "test" => TaskSplit.Test,
        _ => throw new SparseCircuitsException($"{what} must be train, val or test (got '{text}')"),
    };
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>
/// A dozen hand-written contrast pairs per paper task (Tasks/Handwritten/TASK.jsonl, embedded in
/// the library), written from the paper's task table without looking at the generators: short
/// natural snippets in varied domains and naming styles. Why: the generated pairs share a style a
/// model can learn from the generated training programs; these measure whether a model knows the
/// Python idiom itself (docs/tasks.md "Hand-written pairs"). Same JSON lines as custom task files
/// (<see cref="CustomTaskFile"/>), text form, all test pairs.
/// </summary>
public static class HandwrittenPairs
{
    const string Prefix = "SparseCircuits.Tasks.Handwritten.";

    /// <summary>Names of the tasks that have hand-written pairs, in registry order.</summary>
    public static IReadOnlyList<string> Tasks { get; } = TaskRegistry.All.Select(t => t.Name).Where(Has).ToList();

    public static bool Has(string task) => typeof(HandwrittenPairs).Assembly.GetManifestResourceInfo(Prefix + task + ".jsonl") is not null;

    /// <summary>Where the pairs of <paramref name="task"/> come from, for messages (the source file in the repository).</summary>
    public static string Source(string task) => $"src/SparseCircuits/Tasks/Handwritten/{task}.jsonl";

    /// <summary>Refuses a task without hand-written pairs, naming the tasks that have them.</summary>
    public static void Require(string task)
    {
        if (!Has(task)) throw new SparseCircuitsException($"task '{task}' has no hand-written pairs; tasks with them: {string.Join(", ", Tasks)}");
    }

    /// <summary>The pairs of <paramref name="task"/>; a task without hand-written pairs is a user error.</summary>
    public static IReadOnlyList<CustomPair> Read(string task)
    {
        Require(task);
        using Stream stream = typeof(HandwrittenPairs).Assembly.GetManifestResourceStream(Prefix + task + ".jsonl")!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return CustomTaskFile.Parse(buffer.ToArray(), Source(task));
    }
}

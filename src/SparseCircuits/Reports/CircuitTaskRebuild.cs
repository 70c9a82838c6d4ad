using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;

namespace SparseCircuits.Reports;

/// <summary>
/// The task a circuit was pruned on, rebuilt from <c>task.source</c> as pruning built it: a
/// built-in task (<c>builtin:NAME</c>) with the circuit's seed and prompts capped at the model's
/// context, or the custom JSONL file when it still exists. Only the test split matters to the
/// report; when the task cannot be rebuilt the reason says why.
/// </summary>
public static class CircuitTaskRebuild
{
    public sealed record Result(BinaryTask? Task, string? Problem);

    public static Result Rebuild(Circuit circuit, CodeTokenizer tokenizer, int contextLength)
    {
        string? source = circuit.Task.Source;
        var options = new TaskDatasetOptions { MaxPromptTokens = contextLength };
        ulong seed = circuit.Hyperparameters.Seed;
        try
        {
            BinaryTask task;
            if (source is null) return new Result(null, "the circuit file does not record its task source");
            if (TaskSource.TryParseBuiltIn(source, out string name, out PromptContext promptContext))
                task = TaskSource.FromBuiltIn(name, tokenizer, seed, options with { Context = promptContext }, trainPairs: 1, valPairs: 1);
            else if (File.Exists(source))
                task = TaskSource.FromFile(source, tokenizer, seed, options);
            else
                return new Result(null, $"the task file {source} no longer exists");
            if (task.Test.Count == 0) return new Result(null, "the rebuilt task has no test prompts");
            task.Validate(contextLength, tokenizer.VocabSize);
            return new Result(task, task.Test.Count == circuit.Task.TestPrompts ? null
                : $"the rebuilt test split has {task.Test.Count} prompts; the circuit was validated on {circuit.Task.TestPrompts}");
        }
        catch (SparseCircuitsException e)
        {
            return new Result(null, $"the task could not be rebuilt: {e.Message}");
        }
    }
}

using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>
/// What pruning needs from a task: its prompts split into train (mask learning), val
/// (discretisation) and test (validation). Both prompts of a pair are in the same split.
/// This is the seam where the task suite plugs in: anything that yields these lists can be pruned.
/// </summary>
public sealed record BinaryTask(string Name, IReadOnlyList<TaskExample> Train, IReadOnlyList<TaskExample> Val, IReadOnlyList<TaskExample> Test)
{
    /// <summary>Throws a user error for an empty split, an empty prompt or a prompt longer than <paramref name="contextLength"/>.</summary>
    public BinaryTask Validate(int contextLength, int vocabSize)
    {
        foreach (var (split, examples) in new[] { ("train", Train), ("val", Val), ("test", Test) })
        {
            if (examples.Count == 0) throw new Core.SparseCircuitsException($"task {Name}: the {split} split has no prompts");
            foreach (TaskExample e in examples)
            {
                if (e.PromptIds.Length == 0) throw new Core.SparseCircuitsException($"task {Name}: a {split} prompt is empty");
                if (e.PromptIds.Length > contextLength)
                    throw new Core.SparseCircuitsException($"task {Name}: a {split} prompt has {e.PromptIds.Length} tokens, more than the model's context of {contextLength}");
                if (e.CorrectId == e.WrongId) throw new Core.SparseCircuitsException($"task {Name}: a {split} prompt has the same correct and wrong token");
                foreach (int id in e.PromptIds.Append(e.CorrectId).Append(e.WrongId))
                    if (id < 0 || id >= vocabSize) throw new Core.SparseCircuitsException($"task {Name}: token id {id} is outside the model's vocabulary of {vocabSize}");
            }
        }
        return this;
    }
}

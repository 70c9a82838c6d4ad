using SparseCircuits.Core;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>Batches of training prompts: a seeded shuffle per epoch, consecutive slices of it per batch.</summary>
public sealed class PromptSampler(IReadOnlyList<TaskExample> examples, int batchSize, ulong seed)
{
    readonly SplitMix64 _random = new(seed);
    int[] _order = [];
    int _next;

    public IReadOnlyList<TaskExample> Next()
    {
        int size = Math.Min(batchSize, examples.Count);
        var batch = new List<TaskExample>(size);
        while (batch.Count < size)
        {
            if (_next >= _order.Length) Reshuffle();
            batch.Add(examples[_order[_next++]]);
        }
        return batch;
    }

    void Reshuffle()
    {
        _order = Enumerable.Range(0, examples.Count).ToArray();
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = (int)_random.NextBelow((ulong)i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
        _next = 0;
    }
}

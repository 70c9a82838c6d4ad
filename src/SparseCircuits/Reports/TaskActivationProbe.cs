using SparseCircuits.Circuits;
using SparseCircuits.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Reports;

/// <summary>
/// What each circuit node does on the task, in circuit mode: the model runs with everything
/// outside the circuit ablated (<see cref="NodeAblation.Fixed"/>), and each node's activation is
/// recorded at its hook point after that ablation. Prompts come in contrast pairs as
/// <see cref="TaskExample.FromPairs"/> lists them: even indices are class 0 (the answer is the pair's
/// first token), odd indices class 1. Shown: the first <c>pairs</c> pairs token by token (the
/// last <c>tokensShown</c> tokens of each prompt) with per-token class 0 - class 1 when both
/// prompts have the same length; and the mean activation at the last prompt position per class
/// over the first <c>meanPrompts</c> prompts.
/// </summary>
public static class TaskActivationProbe
{
    public const int BatchSize = 32;

    public static IReadOnlyList<TaskActivations> Probe(SparseGpt model, NodeAblation ablation, IReadOnlyList<NodeId> circuit,
        IReadOnlyList<TaskExample> prompts, int pairs, int meanPrompts, int tokensShown, IReadOnlyList<string> tokenTexts)
    {
        int count = Math.Min(prompts.Count, Math.Max(meanPrompts, 2 * pairs));
        int shownPrompts = Math.Min(count, 2 * pairs) / 2 * 2;
        int averaged = Math.Min(count, meanPrompts);
        var full = circuit.Select(_ => new float[shownPrompts][]).ToArray(); // per node, per shown prompt: every position
        var last = circuit.Select(_ => new float[averaged]).ToArray();
        var byPoint = circuit.Select((n, i) => (Node: n, Slot: i)).GroupBy(x => x.Node.Point).ToList();
        bool[] keep = ablation.Space.Selection(circuit);

        using var _ = no_grad();
        for (int start = 0; start < count; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            var batchPrompts = prompts.Skip(start).Take(BatchSize).ToList();
            TaskBatch batch = TaskBatch.From(batchPrompts);
            Hooks hooks = ablation.Fixed(keep).Record(byPoint.Select(g => g.Key));
            model.LogitsAt(batch.Tokens, batch.LastPosition, hooks);
            foreach (var group in byPoint)
            {
                Tensor recorded = hooks[group.Key];
                long[] channels = group.Select(x => (long)x.Node.Index).ToArray();
                float[] values = recorded.index_select(-1, tensor(channels)).contiguous().to(ScalarType.Float32).data<float>().ToArray(); // (B, T, k)
                long T = recorded.shape[1];
                int k = channels.Length;
                for (int b = 0; b < batchPrompts.Count; b++)
                {
                    int prompt = start + b, length = batchPrompts[b].PromptIds.Length;
                    int slot = 0;
                    foreach (var (_, nodeSlot) in group)
                    {
                        float At(int t) => values[(b * T + t) * k + slot];
                        if (prompt < averaged) last[nodeSlot][prompt] = At(length - 1);
                        if (prompt < shownPrompts) full[nodeSlot][prompt] = Enumerable.Range(0, length).Select(At).ToArray();
                        slot++;
                    }
                }
            }
        }

        return circuit.Select((_, i) => new TaskActivations(
            Enumerable.Range(0, shownPrompts / 2).Select(p => Pair(prompts[2 * p], prompts[2 * p + 1], full[i][2 * p], full[i][2 * p + 1], tokensShown, tokenTexts)).ToList(),
            ReportNumbers.Value(ClassMean(last[i], 0)), ReportNumbers.Value(ClassMean(last[i], 1)),
            ReportNumbers.Value(ClassMean(last[i], 0) - ClassMean(last[i], 1)))).ToList();
    }

    static double ClassMean(float[] values, int parity)
    {
        var own = values.Where((_, i) => i % 2 == parity).ToList();
        return own.Count == 0 ? 0 : own.Average(v => (double)v);
    }

    static PairActivations Pair(TaskExample class0, TaskExample class1, float[] a0, float[] a1, int tokensShown, IReadOnlyList<string> tokenTexts)
    {
        ActivationText Text(TaskExample e, float[] a)
        {
            int shown = Math.Min(tokensShown, a.Length);
            return new ActivationText(e.PromptIds[^shown..].Select(id => tokenTexts[id]).ToList(), ReportNumbers.Activations(a.AsSpan(a.Length - shown)));
        }
        ActivationText t0 = Text(class0, a0), t1 = Text(class1, a1);
        IReadOnlyList<float>? difference = a0.Length == a1.Length
            ? Enumerable.Range(a0.Length - t0.Activations.Count, t0.Activations.Count).Select(t => ReportNumbers.Activation(a0[t] - a1[t])).ToList()
            : null;
        return new PairActivations(t0, t1, difference);
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Tasks;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>One prompt to steer and its counterfactual: the contrast pair's other prompt.</summary>
public sealed record SteeringPrompt(TaskExample Actual, TaskExample Counterfactual);

/// <summary>The dense model's mean probability of the counterfactual answer at each strength, steering through one sparse channel.</summary>
public sealed record SteeringCurve(int Channel, IReadOnlyList<double> CounterfactualProbability);

/// <summary>
/// <c>steer-{task}-{node}.json</c>: one steering experiment (docs/bridges.md, "Steering").
/// Probabilities are over the two answers of the task (softmax of their two logits).
/// </summary>
/// <param name="RmsRatio">RMS of the dense residual over RMS of the sparse residual at the site, on reference text (for the record: the decoder's own s / r is the ratio the edit is scaled by)</param>
/// <param name="DenseOnCounterfactual">the dense model's probability of the counterfactual answer on the counterfactual prompts themselves (what a full swap would give)</param>
public sealed record SteeringResult(string Task, string Node, string Site, int Channel, double RmsRatio, int Prompts,
    IReadOnlyList<double> Strengths, SteeringCurve Steered, IReadOnlyList<SteeringCurve> Controls, double DenseOnCounterfactual)
{
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The file stem of this experiment, e.g. <c>steer-single_double_quote-2.mlp.act_in-17</c>.</summary>
    public static string Stem(string task, string node) => $"steer-{task}-{node.Replace('[', '-').Replace("]", "")}";
}

/// <summary>
/// Steering a dense model through a bridge (docs/bridges.md, "Steering"): for a circuit node of the
/// sparse model (channel c of a residual read by a sublayer), the counterfactual-minus-actual value
/// of the sparse residual channel at every token (prompts of different lengths are aligned at their
/// end after their common prefix, see <see cref="Alignment"/>), mapped through the site's decoder (its column c,
/// which carries the models' residual RMS ratio s / r, see <see cref="BridgeSet"/>) and scaled by a
/// strength, is added to the dense model's residual at the same site through a hook. Random channels of the same site outside the
/// circuit are the control.
/// </summary>
public static class BridgeSteering
{
    public static IReadOnlyList<double> DefaultStrengths { get; } = [0, 0.25, 0.5, 0.75, 1];
    const int BatchSize = 64;

    /// <summary>Both directions of every contrast pair of <paramref name="data"/>: each prompt steered towards the other.</summary>
    public static IReadOnlyList<SteeringPrompt> Prompts(TaskDataset data)
    {
        if (data.Pairs.Count == 0) throw new SparseCircuitsException($"task {data.Name} gave no contrast pairs to steer");
        return data.Pairs.SelectMany(p => new[]
        {
            new SteeringPrompt(new TaskExample(p.Positive, p.TokId, p.AltId), new TaskExample(p.Negative, p.AltId, p.TokId)),
            new SteeringPrompt(new TaskExample(p.Negative, p.AltId, p.TokId), new TaskExample(p.Positive, p.TokId, p.AltId)),
        }).ToList();
    }

    /// <summary>The node, checked to be one of the <paramref name="task"/> circuit's <paramref name="circuit"/> nodes and a residual channel read by a sublayer.</summary>
    public static NodeId CircuitNode(IReadOnlyCollection<NodeId> circuit, string task, string node)
    {
        NodeId id = NodeId.Parse(node);
        if (!circuit.Contains(id))
            throw new SparseCircuitsException($"node {id} is not in the {task} circuit ({circuit.Count} nodes)");
        BridgeSites.Of(id);
        return id;
    }

    /// <summary>RMS of the dense over the sparse residual at <paramref name="site"/> over the first <paramref name="maxTokens"/> tokens of the val split.</summary>
    public static double RmsRatio(BridgedPair pair, string site, long maxTokens = 8192)
    {
        var (shards, dir) = pair.Sparse.Shards();
        using TokenShard val = shards.Open(dir, CorpusSplit.Val);
        int T = pair.Sparse.Config.Model.NCtx;
        double dense = 0, sparse = 0; // mean squares per entry, so the widths may differ
        using var _ = no_grad();
        foreach (long[] windows in SequentialWindows.Batches(val, 8, T, maxTokens))
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(windows).view(-1, T + 1).narrow(1, 0, T);
            var d = new Hooks().Record(site);
            var s = new Hooks().Record(site);
            pair.Dense.Model.forward(x, d);
            pair.Sparse.Model.forward(x, s);
            dense += d[site].square().mean().item<float>();
            sparse += s[site].square().mean().item<float>();
        }
        if (sparse == 0) throw new SparseCircuitsException($"the sparse model's residual at {site} is zero on the reference text");
        return Math.Sqrt(dense / sparse); // equal batches on both sides: the ratio of the mean squares
    }

    /// <summary>Runs the experiment: the node's channel and <paramref name="controlChannels"/> at every strength.</summary>
    public static SteeringResult Run(BridgedPair pair, string task, NodeId node, IReadOnlyList<SteeringPrompt> prompts,
        IReadOnlyList<double> strengths, IReadOnlyList<int> controlChannels, double rmsRatio)
    {
        if (strengths.Count == 0) throw new SparseCircuitsException("give at least one strength");
        foreach (double s in strengths)
            if (!double.IsFinite(s)) throw new SparseCircuitsException($"strengths must be finite numbers; got {s}");
        string site = BridgeSites.Of(node);
        int width = pair.Sparse.Config.Model.DModel;
        foreach (int c in controlChannels.Prepend(node.Index))
            if (c < 0 || c >= width) throw new SparseCircuitsException($"channel {c} is outside the sparse residual of width {width}");
        (pair.Sparse.Model.MatmulPrecision, pair.Dense.Model.MatmulPrecision) = (MatmulPrecision.Fp32, MatmulPrecision.Fp32);

        var channels = controlChannels.Prepend(node.Index).ToList();
        var sums = channels.Select(_ => new double[strengths.Count]).ToList();
        double onCounterfactual = 0;
        using var _ = no_grad();
        for (int from = 0; from < prompts.Count; from += BatchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = prompts.Skip(from).Take(BatchSize).ToList();
            TaskBatch actual = TaskBatch.From(chunk.Select(p => p.Actual).ToList());
            TaskBatch counterfactual = TaskBatch.From(chunk.Select(p => p.Counterfactual).ToList());
            Tensor actualResidual = SparseResidual(pair, actual.Tokens, site); // (B, T, d_sparse)
            Tensor index = tensor(Alignment(chunk, actual.Tokens.shape[1])).view(chunk.Count, -1, 1).expand_as(actualResidual); // (B, T, d_sparse)
            Tensor delta = SparseResidual(pair, counterfactual.Tokens, site).gather(1, index) - actualResidual; // (B, T, d_sparse)
            onCounterfactual += CounterfactualProbability(pair.Dense.Model.forward(counterfactual.Tokens), counterfactual, swap: false).sum().item<float>();
            for (int c = 0; c < channels.Count; c++)
            {
                // (B, T, 1) * (d_dense) -> (B, T, d_dense): the decoded change of one sparse channel.
                Tensor edit = delta.narrow(2, channels[c], 1) * pair.Bridges.DecoderColumn(site, channels[c]);
                for (int k = 0; k < strengths.Count; k++)
                {
                    double strength = strengths[k];
                    var hooks = new Hooks().Replace(site, x => x + edit * strength);
                    Tensor logits = pair.Dense.Model.forward(actual.Tokens, hooks);
                    sums[c][k] += CounterfactualProbability(logits, actual, swap: true).sum().item<float>();
                }
            }
        }
        var curves = channels.Select((channel, c) => new SteeringCurve(channel, sums[c].Select(v => v / prompts.Count).ToList())).ToList();
        return new SteeringResult(task, node.ToString(), site, node.Index, rmsRatio, prompts.Count, strengths.ToList(), curves[0], curves.Skip(1).ToList(),
            onCounterfactual / prompts.Count);
    }

    /// <summary>
    /// <paramref name="count"/> distinct channels of the site drawn with <paramref name="seed"/>, none
    /// of them in <paramref name="exclude"/> (the circuit's channels at the site).
    /// </summary>
    public static IReadOnlyList<int> ControlChannels(int width, IReadOnlySet<int> exclude, int count, ulong seed)
    {
        var candidates = Enumerable.Range(0, width).Where(c => !exclude.Contains(c)).ToList();
        var rng = new SplitMix64(seed);
        for (int i = candidates.Count - 1; i > 0; i--) // Fisher-Yates, reproducible across platforms
        {
            int j = (int)rng.NextBelow((ulong)(i + 1));
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        return candidates.Take(count).Order().ToList();
    }

    /// <summary>
    /// For each prompt (row) and position t of the actual prompt (padded to <paramref name="length"/>),
    /// the counterfactual position compared with it: t itself within the two prompts' common prefix
    /// (identical tokens, so identical residuals), after it the position as far from the
    /// counterfactual's end as t is from the actual prompt's end (the cue may change the length);
    /// clamped into the counterfactual. Positions past a prompt's end are padding no answer reads.
    /// </summary>
    public static long[] Alignment(IReadOnlyList<SteeringPrompt> prompts, long length)
    {
        var index = new long[prompts.Count * length];
        for (int b = 0; b < prompts.Count; b++)
        {
            int[] actual = prompts[b].Actual.PromptIds, counterfactual = prompts[b].Counterfactual.PromptIds;
            int prefix = 0;
            while (prefix < actual.Length && prefix < counterfactual.Length && actual[prefix] == counterfactual[prefix]) prefix++;
            int shift = counterfactual.Length - actual.Length;
            for (int t = 0; t < length; t++)
                index[b * length + t] = t < prefix ? t : Math.Clamp(t + shift, 0, counterfactual.Length - 1);
        }
        return index;
    }

    static Tensor SparseResidual(BridgedPair pair, Tensor tokens, string site)
    {
        var hooks = new Hooks().Record(site);
        pair.Sparse.Model.forward(tokens, hooks);
        return hooks[site];
    }

    /// <summary>
    /// (B) probability of the counterfactual answer over the two answers at each prompt's last
    /// position: the prompt's wrong answer when <paramref name="swap"/> (an actual prompt), its
    /// correct one otherwise (a counterfactual prompt).
    /// </summary>
    static Tensor CounterfactualProbability(Tensor logits, TaskBatch batch, bool swap)
    {
        Tensor difference = TaskLoss.LogitDifference(batch.LastLogits(logits), batch); // correct - wrong
        return (swap ? -difference : difference).sigmoid();
    }
}

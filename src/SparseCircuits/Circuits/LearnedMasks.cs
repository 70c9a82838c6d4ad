using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using TorchSharp;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Circuits;

/// <summary>
/// Learns one mask parameter tau per unit (docs/method.md, "Pruning to a circuit"): masked nodes take
/// their baseline through <see cref="NodeAblation"/> hooks, the mask is
/// <see cref="StraightThroughMask"/>(tau), the loss is task loss + k_coef * (open nodes), AdamW
/// with gradient clipping, warmup then linear decay, tau clamped to [-1, 1] after every step.
/// The model's weights are frozen. The result is tau per unit: the ranking for the
/// discretisation.
/// </summary>
public static class LearnedMasks
{
    public sealed record Result(float[] Tau, double LastTaskLoss, int OpenNodes);


    public static Result Train(SparseGpt model, NodeAblation ablation, MaskUnits units, IReadOnlyList<TaskExample> train,
        PruningConfig config, SearchSetting setting, IProgressTask? progress = null)
    {
        TorchRuntime.EnsureInitialized();
        using var frozen = new FrozenWeights(model);
        using var tau = InitialTau(units.Count, config, setting.Seed);
        using var unitOfNode = units.TieQk ? tensor(units.UnitOfNode.Select(u => (long)u).ToArray()) : null;
        using var adam = new AdamWithDecoupledDecay([new OptimizedParameter("tau", tau, Decay: true)],
            new AdamConfig(config.Beta1, config.Beta2, config.AdamEps, config.WeightDecay));
        var sampler = new PromptSampler(train, config.BatchPrompts, setting.Seed);
        double lastTaskLoss = double.NaN;
        int open = 0;
        var penalty = new AdaptivePenalty(setting.KCoef, config.KCoefSetpoint is { } fraction ? fraction * config.TargetLoss : null);
        for (int step = 0; step < config.Steps; step++)
        {
            using var scope = NewDisposeScope();
            IReadOnlyList<TaskExample> prompts = sampler.Next();
            double temperature = Temperature(step, config);
            Tensor NodeMask()
            {
                Tensor unitMask = StraightThroughMask.Apply(tau, temperature); // (units)
                return unitOfNode is null ? unitMask : unitMask.index_select(0, unitOfNode); // (nodes)
            }
            tau.grad?.zero_();
            // Prompts range from ~30 to ~200 tokens: one padded batch would pay for the longest
            // everywhere. Chunks of similar length, each backpropagating its share of the mean,
            // give the same gradient (a sum over prompts) for less compute.
            double taskLossSum = 0;
            foreach (IReadOnlyList<TaskExample> chunk in LengthChunks(prompts, config.LengthChunks))
            {
                using var chunkScope = NewDisposeScope();
                TaskBatch batch = TaskBatch.From(chunk);
                Tensor lastLogits = model.LogitsAt(batch.Tokens, batch.LastPosition, ablation.Masked(NodeMask()));
                Tensor chunkLoss = TaskLoss.PerPrompt(TaskLoss.LogitDifference(lastLogits, batch)).sum() / prompts.Count;
                chunkLoss.backward();
                taskLossSum += chunkLoss.item<float>();
            }
            Tensor openNodes = NodeMask().sum(); // forward: the number of open nodes; backward: sum of sigmoid'
            (KCoef(step, config, penalty.KCoef) * openNodes).backward();
            ClipGradient(tau, config.GradClip);
            double lr = LearningRate(step, config.Steps, setting.LearningRate, config.WarmupFraction);
            adam.Step(lr);
            adam.ApplyWeightDecay(lr);
            using (no_grad()) ClampToUnit(tau);

            lastTaskLoss = taskLossSum;
            open = (int)openNodes.item<float>();
            penalty.Observe(taskLossSum);
            progress?.Set(step + 1);
            if (step % 10 == 0 || step == config.Steps - 1) progress?.Status($"task loss {lastTaskLoss:0.000}, open nodes {open}, k_coef {penalty.KCoef:g2}");
        }
        return new Result(tau.detach().data<float>().ToArray(), lastTaskLoss, open);
    }

    /// <summary>
    /// <paramref name="prompts"/> sorted by length (stable) and cut into <paramref name="chunks"/>
    /// runs of near-equal count; 1 keeps the batch whole.
    /// </summary>
    public static IEnumerable<IReadOnlyList<TaskExample>> LengthChunks(IReadOnlyList<TaskExample> prompts, int chunks)
    {
        var sorted = prompts.OrderBy(p => p.PromptIds.Length).ToList();
        int count = Math.Clamp(chunks, 1, Math.Max(1, sorted.Count));
        for (int c = 0; c < count; c++)
        {
            int start = c * sorted.Count / count, end = (c + 1) * sorted.Count / count;
            if (end > start) yield return sorted.GetRange(start, end - start);
        }
    }

    /// <summary>tau ~ N(init_mean, init_std), clamped to [-1, 1], from a generator seeded per run.</summary>
    public static Tensor InitialTau(int count, PruningConfig config, ulong seed)
    {
        var generator = new Generator(seed, CPU);
        Tensor tau = empty(count);
        using (no_grad()) ClampToUnit(tau.normal_(config.InitMean, config.InitStd, generator));
        return tau.requires_grad_(true).DetachFromDisposeScope();
    }

    /// <summary>
    /// The sigmoid temperature of the straight-through gradient at <paramref name="step"/>: constant,
    /// or annealed geometrically from temperature to temperature_end (a sharper surrogate late,
    /// closer to the hard mask the cut uses).
    /// </summary>
    public static double Temperature(int step, PruningConfig config) =>
        config.TemperatureEnd is not { } end || config.Steps <= 1
            ? config.Temperature
            : config.Temperature * Math.Pow(end / config.Temperature, step / (double)(config.Steps - 1));

    /// <summary>
    /// The penalty per open node at <paramref name="step"/>: ramped linearly from 0 over the first
    /// k_coef_ramp of the steps (the task loss shapes tau before the penalty starts closing nodes), then constant.
    /// </summary>
    public static double KCoef(int step, PruningConfig config, double kCoef)
    {
        int ramp = (int)Math.Ceiling(config.KCoefRamp * config.Steps);
        return step >= ramp ? kCoef : kCoef * (step + 1) / ramp;
    }

    /// <summary>Linear warmup over the first warmup_fraction of steps, then linear decay towards 0.</summary>
    public static double LearningRate(int step, int steps, double peak, double warmupFraction)
    {
        int warmup = (int)Math.Ceiling(warmupFraction * steps);
        if (step < warmup) return peak * (step + 1) / warmup;
        return peak * (steps - step) / (double)(steps - warmup);
    }

    static void ClipGradient(Tensor tau, double maxNorm)
    {
        using var _ = no_grad();
        Tensor? grad = tau.grad;
        if (grad is null) return;
        double norm = grad.norm().item<float>();
        if (norm <= maxNorm) return;
        using Scalar factor = maxNorm / norm;
        grad.mul_(factor);
    }

    static void ClampToUnit(Tensor tau)
    {
        using Scalar low = -1, high = 1;
        tau.clamp_(low, high);
    }
}

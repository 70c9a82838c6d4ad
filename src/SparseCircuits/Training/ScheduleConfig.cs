using SparseCircuits.Core;

namespace SparseCircuits.Training;

/// <summary>
/// Inputs of the L0-annealing and sharkfin learning-rate schedules. Steps are numbered
/// 0 .. <see cref="TotalSteps"/> - 1. Defaults from the paper: annealing over the first 50% of
/// training (0.8 for the largest, sparsest models), 1% warmup.
/// </summary>
/// <param name="FinalDensity">fraction of nonzero entries each sparse matrix ends at, in (0, 1]</param>
public sealed record ScheduleConfig(
    long TotalSteps,
    double PeakLearningRate,
    double FinalDensity,
    double AnnealFraction = 0.5,
    double WarmupFraction = 0.01)
{
    /// <summary>Returns this config, or throws naming the first field outside its range.</summary>
    public ScheduleConfig Validate()
    {
        if (TotalSteps < 1) throw new SparseCircuitsException($"schedule total_steps must be >= 1 (got {TotalSteps})");
        if (!(PeakLearningRate > 0 && double.IsFinite(PeakLearningRate)))
            throw new SparseCircuitsException($"schedule peak_learning_rate must be a finite number > 0 (got {PeakLearningRate})");
        CheckDensity(FinalDensity, "final_density");
        if (!(AnnealFraction >= 0 && AnnealFraction <= 1))
            throw new SparseCircuitsException($"schedule anneal_fraction must be in [0, 1] (got {AnnealFraction})");
        if (!(WarmupFraction >= 0 && WarmupFraction < 1))
            throw new SparseCircuitsException($"schedule warmup_fraction must be in [0, 1) (got {WarmupFraction})");
        return this;
    }

    internal static void CheckDensity(double density, string field)
    {
        if (!(density > 0 && density <= 1)) throw new SparseCircuitsException($"schedule {field} must be in (0, 1] (got {density})");
    }

    internal void CheckStep(long step)
    {
        if (step < 0 || step >= TotalSteps)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step must be in [0, {TotalSteps - 1}]");
    }
}

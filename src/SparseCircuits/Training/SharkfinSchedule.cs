namespace SparseCircuits.Training;

/// <summary>
/// The paper's "sharkfin" learning rate: linear warmup, linear decay to 0 at the last step, scaled
/// up while weights are being annealed. With T = total steps, W = warmup_fraction * T, peak lr P,
/// final density f and density(s) from <see cref="L0Annealing.Density"/>:
/// <code>
/// warmup(s) = (s + 1) / W                      (1 when W = 0)
/// decay(s)  = (T - 1 - s) / (T - 1 - W)        (1 when s &lt; T - 1 &lt;= W; 0 at s = T - 1)
/// lr(s)     = P * clamp(min(warmup(s), decay(s)), 0, 1) * sqrt(f / density(s))
/// </code>
/// The last factor is sqrt(f) at step 0 and reaches 1 when annealing ends; it compensates for the
/// smaller effective step of denser matrices, and for sparse targets puts the peak of the
/// schedule where annealing ends (hence the fin shape).
/// </summary>
public static class SharkfinSchedule
{
    public static double LearningRate(ScheduleConfig config, long step)
    {
        config.CheckStep(step);
        return config.PeakLearningRate * Envelope(config, step) * Math.Sqrt(config.FinalDensity / L0Annealing.Density(config, step));
    }

    /// <summary>The warmup/decay shape alone, in [0, 1].</summary>
    public static double Envelope(ScheduleConfig config, long step)
    {
        config.CheckStep(step);
        double total = config.TotalSteps;
        double warmupSteps = config.WarmupFraction * total;
        double warmup = warmupSteps <= 0 ? 1 : (step + 1) / warmupSteps;
        double last = total - 1;
        double decay = step >= last ? 0 : last - warmupSteps <= 0 ? 1 : (last - step) / (last - warmupSteps);
        return Math.Clamp(Math.Min(warmup, decay), 0, 1);
    }
}

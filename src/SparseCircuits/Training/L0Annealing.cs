namespace SparseCircuits.Training;

/// <summary>
/// The target fraction of nonzero weights at each step: dense at step 0, falling linearly to the
/// final density by the end of the annealing phase, then constant. With T = total steps,
/// A = anneal_fraction * T and f = final density:
/// <code>
/// density(s) = 1 - (1 - f) * min(1, s / A)      (density(s) = f when A = 0)
/// </code>
/// </summary>
public static class L0Annealing
{
    /// <param name="finalDensity">overrides <see cref="ScheduleConfig.FinalDensity"/>, e.g. for embeddings kept denser</param>
    public static double Density(ScheduleConfig config, long step, double? finalDensity = null)
    {
        config.CheckStep(step);
        double f = finalDensity ?? config.FinalDensity;
        ScheduleConfig.CheckDensity(f, "final_density");
        double annealSteps = config.AnnealFraction * config.TotalSteps;
        double progress = annealSteps <= 0 ? 1 : Math.Min(1, step / annealSteps);
        return 1 - (1 - f) * progress;
    }

    /// <summary>
    /// Whether <paramref name="step"/> is past the annealing phase, so the weights are at their final
    /// density (exactly: <see cref="Density"/> need not round to the final value).
    /// </summary>
    public static bool HasEnded(ScheduleConfig config, long step)
    {
        config.CheckStep(step);
        return step >= config.AnnealFraction * config.TotalSteps;
    }

    /// <summary>
    /// The number of entries a matrix of <paramref name="numel"/> entries keeps at
    /// <paramref name="density"/>: round(density * numel) (halves away from zero), at least 1 and at
    /// most numel. Rounding rather than ceiling keeps products like 0.1 * 30 from becoming 4.
    /// </summary>
    public static long NonzeroCount(double density, long numel)
    {
        ScheduleConfig.CheckDensity(density, "density");
        if (numel < 1) throw new ArgumentOutOfRangeException(nameof(numel), numel, "a matrix has at least one entry");
        long k = (long)Math.Round(density * numel, MidpointRounding.AwayFromZero);
        return Math.Clamp(k, 1, numel);
    }
}

using SparseCircuits.Core;
using SparseCircuits.Training;
using Xunit;

namespace SparseCircuits.Tests.Training;

public sealed class ScheduleTests
{
    // T = 1000 steps, warmup W = 10 steps, annealing A = 500 steps, final density f = 0.25, peak 1e-2.
    static readonly ScheduleConfig Config = new ScheduleConfig(TotalSteps: 1000, PeakLearningRate: 1e-2, FinalDensity: 0.25).Validate();

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(9, 1 - 0.75 * 9 / 500.0)]
    [InlineData(250, 0.625)]
    [InlineData(500, 0.25)]
    [InlineData(750, 0.25)]
    [InlineData(999, 0.25)]
    public void Density_falls_linearly_then_stays(long step, double expected) =>
        Assert.Equal(expected, L0Annealing.Density(Config, step), 12);

    [Fact]
    public void Density_override_and_no_annealing()
    {
        Assert.Equal(0.75, L0Annealing.Density(Config, 250, finalDensity: 0.5), 12);
        var immediate = Config with { AnnealFraction = 0 };
        Assert.Equal(0.25, L0Annealing.Density(immediate, 0), 12);
        var whole = Config with { AnnealFraction = 1 };
        Assert.Equal(1 - 0.75 * 999 / 1000.0, L0Annealing.Density(whole, 999), 12);
    }

    [Theory]
    [InlineData(1.0, 1000, 1000)]
    [InlineData(0.625, 1000, 625)]
    [InlineData(0.1, 30, 3)]
    [InlineData(0.5, 3, 2)]
    [InlineData(0.001, 100, 1)]
    [InlineData(0.25, 65536, 16384)]
    public void Nonzero_count_rounds_and_keeps_at_least_one(double density, long numel, long expected) =>
        Assert.Equal(expected, L0Annealing.NonzeroCount(density, numel));

    [Theory]
    [InlineData(0, 1e-2 * 0.1 * 0.5)]                                     // step 0: warmup 1/10, sqrt(0.25 / 1)
    [InlineData(9, 1e-2 * 0.5 / 0.9932270636)]                            // end of warmup: full envelope, sqrt(0.25 / 0.9865)
    [InlineData(250, 1e-2 * 749.0 / 989 * 0.6324555320336759)]            // mid-anneal: decay 749/989, sqrt(0.25 / 0.625)
    [InlineData(500, 1e-2 * 499.0 / 989)]                                 // end of anneal: multiplier back to 1
    [InlineData(750, 1e-2 * 249.0 / 989)]
    [InlineData(999, 0.0)]                                                 // last step
    public void Sharkfin_at_chosen_steps(long step, double expected) =>
        Assert.Equal(expected, SharkfinSchedule.LearningRate(Config, step), 10);

    [Fact]
    public void Sharkfin_peaks_where_annealing_ends()
    {
        double[] lrs = Enumerable.Range(0, 1000).Select(s => SharkfinSchedule.LearningRate(Config, s)).ToArray();
        Assert.Equal(500, Array.IndexOf(lrs, lrs.Max()));
    }

    [Fact]
    public void Envelope_without_warmup_starts_at_one()
    {
        var noWarmup = Config with { WarmupFraction = 0 };
        Assert.Equal(1.0, SharkfinSchedule.Envelope(noWarmup, 0), 12);
        Assert.Equal(2.0 / 3, SharkfinSchedule.Envelope(noWarmup, 333), 12);   // (999 - 333) / 999
        var single = new ScheduleConfig(TotalSteps: 1, PeakLearningRate: 1, FinalDensity: 1).Validate();
        Assert.Equal(0.0, SharkfinSchedule.LearningRate(single, 0));
    }

    [Fact]
    public void Steps_outside_the_run_are_bugs()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SharkfinSchedule.LearningRate(Config, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => L0Annealing.Density(Config, -1));
    }

    [Fact]
    public void Validation_names_the_field()
    {
        static string Error(ScheduleConfig c) => Assert.Throws<SparseCircuitsException>(() => c.Validate()).Message;
        Assert.Contains("total_steps", Error(Config with { TotalSteps = 0 }));
        Assert.Contains("peak_learning_rate", Error(Config with { PeakLearningRate = -1 }));
        Assert.Contains("final_density must be in (0, 1]", Error(Config with { FinalDensity = 0 }));
        Assert.Contains("anneal_fraction", Error(Config with { AnnealFraction = 1.5 }));
        Assert.Contains("warmup_fraction", Error(Config with { WarmupFraction = 1 }));
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The schedules of mask learning and the CPU budget of the search, checked by hand.</summary>
public sealed class MaskScheduleTests
{
    [Fact]
    public void The_temperature_is_constant_or_anneals_geometrically_from_start_to_end()
    {
        var constant = new PruningConfig { Steps = 11, Temperature = 2 };
        Assert.All(Enumerable.Range(0, 11), s => Assert.Equal(2, LearnedMasks.Temperature(s, constant)));
        var annealed = constant with { TemperatureEnd = 0.02 };
        Assert.Equal(2, LearnedMasks.Temperature(0, annealed), 12);
        Assert.Equal(0.2, LearnedMasks.Temperature(5, annealed), 12);   // halfway: the geometric mean
        Assert.Equal(0.02, LearnedMasks.Temperature(10, annealed), 12);
    }

    [Fact]
    public void K_coef_ramps_up_linearly_over_its_fraction_of_the_steps_then_stays()
    {
        var config = new PruningConfig { Steps = 100, KCoefRamp = 0.1 };
        Assert.Equal(0.1, LearnedMasks.KCoef(0, config, 1), 12);
        Assert.Equal(0.5, LearnedMasks.KCoef(4, config, 1), 12);
        Assert.Equal(1, LearnedMasks.KCoef(9, config, 1), 12);
        Assert.Equal(1, LearnedMasks.KCoef(50, config, 1), 12);
        Assert.Equal(3e-4, LearnedMasks.KCoef(0, config with { KCoefRamp = 0 }, 3e-4));
    }

    [Fact]
    public void The_adaptive_penalty_rises_below_the_setpoint_falls_above_and_is_fixed_without_one()
    {
        var adaptive = new AdaptivePenalty(1e-4, setpoint: 0.1);
        adaptive.Observe(0.0);   // far below: the largest step up
        Assert.Equal(1e-4 * Math.Exp(AdaptivePenalty.Rate), adaptive.KCoef, 15);
        adaptive.Observe(1.0);   // smoothed 0.9 * 0 + 0.1 * 1 = 0.1: at the setpoint, no change
        Assert.Equal(1e-4 * Math.Exp(AdaptivePenalty.Rate), adaptive.KCoef, 15);
        for (int i = 0; i < 50; i++) adaptive.Observe(1.0);   // far above: it keeps falling
        Assert.True(adaptive.KCoef < 1e-4 * Math.Exp(-10 * AdaptivePenalty.Rate));

        var fixedPenalty = new AdaptivePenalty(3e-4, setpoint: null);
        fixedPenalty.Observe(0);
        fixedPenalty.Observe(5);
        Assert.Equal(3e-4, fixedPenalty.KCoef);
    }

    [Theory]
    [InlineData(null, 100.0, 1, true)]    // no budget: always
    [InlineData(10.0, 2.0, 1, true)]      // 2 + 2 = 4 <= 6 (60 % of 10)
    [InlineData(10.0, 3.0, 1, true)]      // 3 + 3 = 6 <= 6
    [InlineData(10.0, 3.5, 1, false)]     // 7 > 6
    [InlineData(10.0, 4.0, 2, true)]      // 2 per run: 6 <= 6
    [InlineData(10.0, 4.2, 2, false)]
    public void Another_mask_run_starts_only_while_it_fits_in_the_search_share_of_the_budget(double? budget, double usedMinutes, int runs, bool fits) =>
        Assert.Equal(fits, CircuitPruning.AnotherRunFits(new PruningConfig { BudgetMinutes = budget }, TimeSpan.FromMinutes(usedMinutes), runs));

    [Fact]
    public void New_pruning_fields_are_validated_with_their_names()
    {
        Assert.Contains("temperature_end", Assert.Throws<SparseCircuitsException>(() => new PruningConfig { TemperatureEnd = 0 }.Validate()).Message);
        Assert.Contains("k_coef_ramp", Assert.Throws<SparseCircuitsException>(() => new PruningConfig { KCoefRamp = 1 }.Validate()).Message);
        Assert.Contains("k_coef_setpoint", Assert.Throws<SparseCircuitsException>(() => new PruningConfig { KCoefSetpoint = 1.5 }.Validate()).Message);
        Assert.Contains("budget_minutes", Assert.Throws<SparseCircuitsException>(() => new PruningConfig { BudgetMinutes = -1 }.Validate()).Message);
        Assert.Contains("runs", Assert.Throws<SparseCircuitsException>(() => new PruningConfig { Runs = 0 }.Validate()).Message);
    }

    [Fact]
    public void The_cpu_clock_counts_this_process_cpu_time()
    {
        var clock = CpuClock.StartNew();
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 0, 5_000);
        // Busy work advances it (however loaded the machine: the wall-clock limit only stops a broken clock).
        var wall = System.Diagnostics.Stopwatch.StartNew();
        double x = 0;
        while (clock.Elapsed.TotalMilliseconds < 50 && wall.Elapsed.TotalSeconds < 60) x += Math.Sqrt(x + 1);
        Assert.True(x > 0);
        Assert.True(clock.Elapsed.TotalMilliseconds >= 50, $"{clock.Elapsed.TotalMilliseconds} ms of CPU after {wall.Elapsed.TotalSeconds:0.0} s of busy work");
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Tests.Platform;

/// <summary>Errors from parallel loops reach the CLI as themselves, so they print as one line.</summary>
public sealed class ParallelErrorsTests
{
    static void Loop(Func<int, Exception?> error) =>
        ParallelErrors.Run(() => Parallel.For(0, 4, i => { if (error(i) is { } e) throw e; }));

    [Fact]
    public void A_user_error_wins_over_an_interrupt_and_an_interrupt_over_nothing()
    {
        // Which iterations of a failing loop still run is up to the scheduler: both errors, as a loop can leave them.
        Assert.Equal("bad input", Assert.Throws<SparseCircuitsException>(() => ParallelErrors.Run(() =>
            throw new AggregateException(new OperationCanceledException(), new SparseCircuitsException("bad input")))).Message);
        Assert.Equal("stop", Assert.Throws<OperationCanceledException>(() => Loop(_ => new OperationCanceledException("stop"))).Message);
    }

    [Fact]
    public void Other_errors_stay_wrapped_as_the_bugs_they_are()
    {
        var e = Assert.Throws<AggregateException>(() => Loop(i => i == 2 ? new InvalidOperationException("bug") : null));
        Assert.IsType<InvalidOperationException>(e.InnerExceptions.Single());
    }
}

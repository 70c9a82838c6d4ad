using System.Runtime.ExceptionServices;

namespace SparseCircuits.Core;

/// <summary>
/// Parallel loops wrap every exception in an <see cref="AggregateException"/>; a user error or an
/// interrupt (Ctrl+C surfaces as <see cref="OperationCanceledException"/> from a progress report)
/// raised inside one must still reach the CLI as itself, so it prints as one line.
/// </summary>
public static class ParallelErrors
{
    public static void Run(Action loop)
    {
        try
        {
            loop();
        }
        catch (AggregateException e)
        {
            var userError = e.Flatten().InnerExceptions.OfType<SparseCircuitsException>().FirstOrDefault();
            if (userError is not null) ExceptionDispatchInfo.Capture(userError).Throw();
            var interrupt = e.Flatten().InnerExceptions.OfType<OperationCanceledException>().FirstOrDefault();
            if (interrupt is not null) ExceptionDispatchInfo.Capture(interrupt).Throw();
            throw;
        }
    }
}

using System.Runtime.ExceptionServices;

namespace SparseCircuits.Core;

/// <summary>
/// Parallel loops wrap every exception in an <see cref="AggregateException"/>; a user error
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
            throw;
        }
    }
}

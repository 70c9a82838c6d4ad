namespace SparseCircuits.Core;

/// <summary>
/// A problem the user can fix (bad path, bad config value, corrupt file). Its message is one line
/// that names the problem; the CLI prints it without a stack trace and exits non-zero.
/// </summary>
public class SparseCircuitsException : Exception
{
    public SparseCircuitsException(string message) : base(message) { }
    public SparseCircuitsException(string message, Exception inner) : base(message, inner) { }
}

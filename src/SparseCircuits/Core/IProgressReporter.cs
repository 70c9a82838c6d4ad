namespace SparseCircuits.Core;

/// <summary>
/// How the library reports long work. The CLI renders it as progress bars (rate, ETA); library
/// users can pass <see cref="NullProgress.Instance"/> or their own.
/// </summary>
public interface IProgressReporter
{
    /// <param name="description">what is being done, e.g. "reading files"</param>
    /// <param name="total">units of work expected (files, bytes, merges, steps)</param>
    /// <param name="unit">name of the unit, shown with the rate ("files", "MB", "steps")</param>
    IProgressTask Start(string description, double total, string unit);

    /// <summary>A one-line message for the user (what was skipped, where output went).</summary>
    void Info(string message);
}

public interface IProgressTask : IDisposable
{
    void Advance(double amount);
    /// <summary>Sets absolute progress (for work measured as a position, like steps done).</summary>
    void Set(double value);
    /// <summary>A short live status shown with the bar (e.g. the current loss).</summary>
    void Status(string status);
}

public sealed class NullProgress : IProgressReporter, IProgressTask
{
    public static readonly NullProgress Instance = new();
    public IProgressTask Start(string description, double total, string unit) => this;
    public void Info(string message) { }
    public void Advance(double amount) { }
    public void Set(double value) { }
    public void Status(string status) { }
    public void Dispose() { }
}

/// <summary>Puts a prefix before every bar and message of another reporter (e.g. the run a measurement is about).</summary>
public sealed class PrefixedProgress(IProgressReporter inner, string prefix) : IProgressReporter
{
    public IProgressTask Start(string description, double total, string unit) => inner.Start(prefix + description, total, unit);
    public void Info(string message) => inner.Info(prefix + message);
}

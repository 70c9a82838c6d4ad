using SparseCircuits.Core;

namespace SparseCircuits.Tests.Support;

/// <summary>
/// A progress reporter that acts like the CLI after Ctrl+C: the first time the work reports
/// progress it throws <see cref="OperationCanceledException"/>. Work that never reports cannot be
/// interrupted, so a test with it fails when the work runs to the end instead.
/// </summary>
public sealed class CancelAtFirstReport : IProgressReporter, IProgressTask
{
    public int Reports { get; private set; }
    public IProgressTask Start(string description, double total, string unit) => this;
    public void Info(string message) { }
    public void Advance(double amount) => Cancel();
    public void Set(double value) => Cancel();
    public void Status(string status) => Cancel();
    public void Dispose() { }

    void Cancel()
    {
        Reports++;
        throw new OperationCanceledException("interrupted (test)");
    }
}

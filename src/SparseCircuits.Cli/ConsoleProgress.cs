using SparseCircuits.Core;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SparseCircuits.Cli;

/// <summary>
/// Renders library progress as Spectre progress bars with rate and ETA. Usage:
/// <c>ConsoleProgress.Run(settings, progress => library.DoWork(..., progress))</c>.
/// Bars and log messages go to stderr, so stdout carries only a command's result (a `--json`
/// document parses even when progress is shown).
/// </summary>
public sealed class ConsoleProgress : IProgressReporter
{
    readonly ProgressContext? _context;
    readonly List<string> _messages = new();
    // Spectre's per-task state holds only value types, so units are kept by task id.
    static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> Units = new();

    ConsoleProgress(ProgressContext? context) => _context = context;

    /// <summary>
    /// Ctrl+C / SIGTERM of the running command (set by <see cref="CircuitsApp"/>). Every progress
    /// call checks it, so any long library work that reports progress stops at its next report
    /// with an <see cref="OperationCanceledException"/>; outputs are written atomically at the end,
    /// so they are then either complete or absent.
    /// </summary>
    public static CancellationToken Cancellation { get; set; }

    public static T Run<T>(GlobalSettings settings, Func<IProgressReporter, T> work)
    {
        Cancellation.ThrowIfCancellationRequested();
        if (settings.Quiet)
        {
            var quiet = new ConsoleProgress(null);
            return work(quiet);
        }
        T result = default!;
        var bars = new ConsoleProgress(null);
        Stderr.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                     new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var reporter = new ConsoleProgress(ctx);
                result = work(reporter);
                bars._messages.AddRange(reporter._messages);
            });
        // Messages printed after the bars, so they do not tear the live display.
        foreach (var m in bars._messages) Console.Error.WriteLine(m);
        return result;
    }

    static readonly IAnsiConsole Stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public IProgressTask Start(string description, double total, string unit)
    {
        Cancellation.ThrowIfCancellationRequested();
        if (_context is null) return new QuietTask();
        var task = _context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1e-9));
        Units[task.Id] = unit;
        return new Task(task, Markup.Escape(description));
    }

    public void Info(string message)
    {
        Cancellation.ThrowIfCancellationRequested();
        if (_context is null) Console.Error.WriteLine(message);
        else _messages.Add(message);
    }

    /// <summary>No bar (--quiet), but still a place where an interrupt stops the work.</summary>
    sealed class QuietTask : IProgressTask
    {
        public void Advance(double amount) => Cancellation.ThrowIfCancellationRequested();
        public void Set(double value) => Cancellation.ThrowIfCancellationRequested();
        public void Status(string status) => Cancellation.ThrowIfCancellationRequested();
        public void Dispose() { }
    }

    sealed class Task(ProgressTask task, string description) : IProgressTask
    {
        public void Advance(double amount)
        {
            Cancellation.ThrowIfCancellationRequested();
            task.Increment(amount);
        }

        public void Set(double value)
        {
            Cancellation.ThrowIfCancellationRequested();
            task.Value = value;
        }

        public void Status(string status)
        {
            Cancellation.ThrowIfCancellationRequested();
            task.Description = $"{description} [grey]{Markup.Escape(status)}[/]";
        }

        public void Dispose()
        {
            task.Value = task.MaxValue;
            task.StopTask();
        }
    }

    /// <summary>Units per second, named by the task's unit ("1.2k files/s").</summary>
    sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            string unit = Units.GetValueOrDefault(task.Id, "");
            double? speed = task.Speed;
            return new Text(speed is null ? "" : $"{Human(speed.Value)} {unit}/s");
        }

        static string Human(double v) => v switch
        {
            >= 1e9 => $"{v / 1e9:0.0}G",
            >= 1e6 => $"{v / 1e6:0.0}M",
            >= 1e4 => $"{v / 1e3:0.0}k",
            >= 10 => $"{v:0}",
            _ => $"{v:0.00}",
        };
    }
}

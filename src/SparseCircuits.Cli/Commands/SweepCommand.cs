using System.ComponentModel;
using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Sweeps;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits sweep</c>: train, mean-cache and prune a grid of models; resumable, optionally in parallel processes.</summary>
public sealed class SweepCommand : Command<SweepCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--spec <FILE|PRESET>")]
        [Description("Sweep spec: a JSON file or a built-in preset (laptop | workstation). Optional when --out already holds a sweep.")]
        public string? Spec { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Sweep directory (default runs/sweep-<spec name>); rerunning skips finished jobs.")]
        public string? Out { get; init; }

        [CommandOption("--parallel <N>")]
        [DefaultValue(1)]
        [Description("Jobs run at once, each as its own process with --threads split between them.")]
        public int Parallel { get; init; } = 1;

        [CommandOption("--source <DIR>")]
        [Description("Python sources for the shared corpus (repeatable); replaces the spec's data.sources.")]
        public string[] Sources { get; init; } = [];

        [CommandOption("--job <NAME>")]
        [Description("Run only this job (repeatable), in this process; what --parallel runs in each child.")]
        public string[] Jobs { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        SweepSpec? spec = settings.Spec is null ? null : Resolve(settings.Spec);
        if (spec is not null && settings.Sources.Length > 0)
            spec = spec with { Data = spec.Data with { Sources = settings.Sources.Select(Path.GetFullPath).ToList() } };
        if (spec is null && settings.Sources.Length > 0) throw new SparseCircuitsException("--source needs --spec (the data of an existing sweep is fixed)");
        string outDir = settings.Out ?? (spec is not null ? Path.Combine("runs", $"sweep-{spec.Name}")
            : throw new SparseCircuitsException("give --spec FILE|PRESET for a new sweep, or --out DIR to resume one"));
        Core.OutputPath.CheckDirectory(outDir);
        var options = new SweepOptions
        {
            OutDir = outDir, Spec = spec, Parallel = settings.Parallel, OnlyJobs = settings.Jobs.Length > 0 ? settings.Jobs : null,
            Launcher = new ChildProcessLauncher(), CommandLine = "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        var result = ConsoleProgress.Run(settings, progress => SweepRunner.Run(options, progress, cancellation));
        var table = new Table().AddColumns("job", "status", "result");
        foreach (var job in result.Jobs) table.AddRow(Markup.Escape(job.Name), job.Skipped ? "already done" : "done", Markup.Escape(job.Detail));
        AnsiConsole.Write(table);
        Console.WriteLine($"sweep: {result.Root}");
        if (settings.Jobs.Length == 0) Console.WriteLine($"next: circuits frontier {result.Root}");
        return 0;
    }

    /// <summary>A spec file if one exists at that path, else a built-in preset.</summary>
    static SweepSpec Resolve(string spec)
    {
        if (File.Exists(spec)) return SweepSpec.Load(spec);
        if (SweepPresets.Names.Contains(spec)) return SweepPresets.Get(spec).Validate();
        throw new SparseCircuitsException($"sweep spec not found: {spec} (not a file, and not a built-in preset: {string.Join(", ", SweepPresets.Names)})");
    }

    /// <summary>Runs one job as <c>circuits sweep --out DIR --job NAME --threads T --quiet</c>, its output in the job's job.log.</summary>
    sealed class ChildProcessLauncher : ISweepJobLauncher
    {
        public async Task<(int ExitCode, string Error)> Run(string sweepDir, string job, int threads, CancellationToken cancellation)
        {
            string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the circuits executable");
            var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(SweepCommand).Assembly.Location);
            foreach (string a in new[] { "sweep", "--out", sweepDir, "--job", job, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet" })
                info.ArgumentList.Add(a);
            var layout = new SweepLayout(sweepDir);
            Directory.CreateDirectory(layout.Job(job));
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {self}");
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try { await process.WaitForExitAsync(cancellation); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true); // the job resumes from its last checkpoint next time
                throw;
            }
            string error = await stderr;
            await File.WriteAllTextAsync(layout.JobLog(job), await stdout + error, CancellationToken.None);
            string last = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            return (process.ExitCode, last.StartsWith("error: ", StringComparison.Ordinal) ? last[7..] : last);
        }
    }
}

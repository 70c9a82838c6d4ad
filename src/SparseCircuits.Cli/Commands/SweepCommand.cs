using System.ComponentModel;
using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Slurm;
using SparseCircuits.Sweeps;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary>
/// <c>circuits sweep</c>: train, mean-cache and prune a grid of models; resumable, optionally in
/// parallel processes, or as jobs of a Slurm cluster (<c>--scheduler slurm</c>).
/// </summary>
public sealed class SweepCommand : Command<SweepCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--spec <FILE|PRESET>")]
        [Description("Sweep spec: a JSON file or a built-in preset (laptop | workstation). Optional when --out already holds a sweep.")]
        public string? Spec { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Sweep directory (default runs/sweep-<spec name>); rerunning skips finished jobs. With --scheduler: storage every node shares.")]
        public string? Out { get; init; }

        [CommandOption("--parallel <N>")]
        [DefaultValue(1)]
        [Description("Jobs run at once, each as its own process with --threads split between them.")]
        public int Parallel { get; init; } = 1;

        [CommandOption("--source <DIR>")]
        [Description("Python sources for the shared corpus (repeatable); replaces the spec's data.sources.")]
        public string[] Sources { get; init; } = [];

        [CommandOption("--job <NAME>")]
        [Description("Run only this job (repeatable), in this process; what --parallel runs in each child and each Slurm array task.")]
        public string[] Jobs { get; init; } = [];

        [CommandOption("--prepare-only")]
        [Description("Only build the shared data (corpus, tokenizer, shards) and store the spec; run no job. What the data job of a Slurm sweep runs.")]
        public bool PrepareOnly { get; init; }

        [CommandOption("--scheduler <NAME>")]
        [Description("Run the jobs on a cluster instead of here: slurm writes sbatch scripts into DIR/slurm and submits them (docs/sweeps.md).")]
        public string? Scheduler { get; init; }

        [CommandOption("--partition <P>")]
        [Description("Slurm partition(s) of the jobs (default: the cluster's default partition).")]
        public string? Partition { get; init; }

        [CommandOption("--time <HH:MM:SS>")]
        [Description("Slurm time limit of each job (default: the partition's).")]
        public string? Time { get; init; }

        [CommandOption("--cpus-per-job <N>")]
        [Description("CPUs of each Slurm job, also its libtorch threads (default 4; a resubmission keeps the scripts' value).")]
        public int? CpusPerJob { get; init; }

        [CommandOption("--mem <M>")]
        [Description("Memory of each Slurm job, e.g. 16G (default: the cluster's).")]
        public string? Mem { get; init; }

        [CommandOption("--account <A>")]
        [Description("Slurm account charged for the jobs (default: yours).")]
        public string? Account { get; init; }

        [CommandOption("--dry-run")]
        [Description("With --scheduler or --resubmit-failed: write the scripts and print the sbatch commands without submitting anything.")]
        public bool DryRun { get; init; }

        [CommandOption("--resubmit-failed <DIR>")]
        [Description("Submit again the jobs of a Slurm sweep in DIR that failed, timed out or were cancelled (with a new frontier job); the Slurm options given override the scripts'.")]
        public string? ResubmitFailed { get; init; }

        public SlurmOptions SlurmOptions() =>
            new() { Partition = Partition, Time = Time, CpusPerJob = CpusPerJob, Mem = Mem, Account = Account };
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        CheckCombination(settings);
        string commandLine = "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        if (settings.ResubmitFailed is not null)
        {
            var resubmitted = SlurmSweep.ResubmitFailed(settings.ResubmitFailed, settings.SlurmOptions(), settings.DryRun, commandLine, new SlurmCommands());
            PrintSubmission(resubmitted, settings.DryRun);
            return 0;
        }
        SweepSpec? spec = settings.Spec is null ? null : Resolve(settings.Spec);
        if (spec is not null && settings.Sources.Length > 0)
            spec = spec with { Data = spec.Data with { Sources = settings.Sources.Select(Path.GetFullPath).ToList() } };
        if (spec is null && settings.Sources.Length > 0) throw new SparseCircuitsException("--source needs --spec (the data of an existing sweep is fixed)");
        string outDir = settings.Out ?? (spec is not null ? Path.Combine("runs", $"sweep-{spec.Name}")
            : throw new SparseCircuitsException("give --spec FILE|PRESET for a new sweep, or --out DIR to resume one"));
        Core.OutputPath.CheckDirectory(outDir);
        if (settings.Scheduler is not null)
        {
            var submitted = SlurmSweep.Submit(new SlurmSubmitRequest
            {
                OutDir = outDir, Spec = spec, Options = settings.SlurmOptions(), Circuits = CircuitsExecutable.Command(), CommandLine = commandLine,
                DryRun = settings.DryRun,
            }, new SlurmCommands());
            PrintSubmission(submitted, settings.DryRun);
            return 0;
        }
        var options = new SweepOptions
        {
            OutDir = outDir, Spec = spec, Parallel = settings.Parallel, OnlyJobs = settings.Jobs.Length > 0 ? settings.Jobs : null,
            PrepareOnly = settings.PrepareOnly, Launcher = new ChildProcessLauncher(), CommandLine = commandLine,
        };
        var result = ConsoleProgress.Run(settings, progress => SweepRunner.Run(options, progress, cancellation));
        if (settings.PrepareOnly)
        {
            foreach (var stage in result.Data) Console.WriteLine($"{stage.Stage}: {(stage.Skipped ? "already done" : "done")}, {stage.Detail}");
            Console.WriteLine($"sweep: {result.Root} (shared data prepared, spec stored; no job run)");
            return 0;
        }
        var table = new Table().AddColumns("job", "status", "result");
        foreach (var job in result.Jobs) table.AddRow(Markup.Escape(job.Name), job.Skipped ? "already done" : "done", Markup.Escape(job.Detail));
        AnsiConsole.Write(table);
        Console.WriteLine($"sweep: {result.Root}");
        if (settings.Jobs.Length == 0) Console.WriteLine($"next: circuits frontier {result.Root}");
        return 0;
    }

    /// <summary>Options that belong to one way of running refuse the others, so nothing is silently ignored.</summary>
    static void CheckCombination(Settings s)
    {
        static string? FirstGiven(params (string Name, bool Given)[] options) => options.FirstOrDefault(o => o.Given).Name;
        string? slurmOption = FirstGiven(("--partition", s.Partition is not null), ("--time", s.Time is not null),
            ("--cpus-per-job", s.CpusPerJob is not null), ("--mem", s.Mem is not null), ("--account", s.Account is not null), ("--dry-run", s.DryRun));
        // On the cluster a job's threads are its CPUs (--cpus-per-job), so --threads would be ignored.
        string? localOption = FirstGiven(("--parallel", s.Parallel != 1), ("--job", s.Jobs.Length > 0), ("--prepare-only", s.PrepareOnly),
            ("--threads", s.Threads is not null));
        if (s.Scheduler is not null && s.Scheduler != "slurm") throw new SparseCircuitsException($"--scheduler must be slurm (got '{s.Scheduler}')");
        if (s.ResubmitFailed is not null)
        {
            if ((FirstGiven(("--spec", s.Spec is not null), ("--out", s.Out is not null), ("--source", s.Sources.Length > 0)) ?? localOption) is { } other)
                throw new SparseCircuitsException($"--resubmit-failed DIR takes only the Slurm options (--partition, --time, --cpus-per-job, --mem, --account, --dry-run), not {other}");
        }
        else if (s.Scheduler is not null)
        {
            if (localOption is not null) throw new SparseCircuitsException($"--scheduler slurm runs every job on the cluster; leave out {localOption}");
        }
        else if (slurmOption is not null) throw new SparseCircuitsException($"{slurmOption} needs --scheduler slurm (or --resubmit-failed DIR)");
    }

    static void PrintSubmission(SlurmSubmitResult result, bool dryRun)
    {
        if (result.Nothing is not null)
        {
            Console.WriteLine(result.Nothing);
            return;
        }
        foreach (string script in result.Scripts) Console.WriteLine($"wrote {script}");
        foreach (string id in result.Cancelled) Console.WriteLine($"{(dryRun ? "would cancel" : "cancelled")} {id} (waiting on a failed job)");
        if (result.ArrayJobs.Count > 0) Console.WriteLine($"job array: {string.Join(", ", result.ArrayJobs)}");
        if (dryRun)
        {
            Console.WriteLine("not submitted (--dry-run); the submission would run:");
            Console.Write(result.Commands);
            return;
        }
        SweepSubmission s = result.Submission!;
        string array = s.ArrayJobId is null ? "" : $"job array {s.ArrayJobId} (tasks {SlurmSweep.ArrayIndices(s.ArrayTasks)}), ";
        string data = s.DataJobId is null ? "" : $"data job {s.DataJobId}, ";
        Console.WriteLine($"submitted {data}{array}frontier job {s.FrontierJobId}; recorded in {Path.Combine(result.Root, "manifest.json")}");
        Console.WriteLine($"next: circuits sweep status {result.Root}");
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
            var command = CircuitsExecutable.Command();
            var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in command.Skip(1)) info.ArgumentList.Add(a);
            foreach (string a in new[] { "sweep", "--out", sweepDir, "--job", job, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet" })
                info.ArgumentList.Add(a);
            var layout = new SweepLayout(sweepDir);
            Directory.CreateDirectory(layout.Job(job));
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command[0]}");
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

using System.Diagnostics;
using System.Globalization;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Pipeline;
using SparseCircuits.Training;

namespace SparseCircuits.Sweeps;

/// <summary>How to run a sweep.</summary>
public sealed record SweepOptions
{
    public required string OutDir { get; init; }
    /// <summary>The spec; null = the one stored in <c>OutDir/sweep.json</c> by an earlier run.</summary>
    public SweepSpec? Spec { get; init; }
    /// <summary>Jobs run at once, each a separate process started by <see cref="Launcher"/>; 1 = one after another in this process.</summary>
    public int Parallel { get; init; } = 1;
    /// <summary>Run only these jobs (by model name), in this process; used by the child processes of a parallel sweep.</summary>
    public IReadOnlyList<string>? OnlyJobs { get; init; }
    /// <summary>
    /// Only build the shared data, check the spec against every job and store it, then stop: the
    /// data job of a sweep submitted to a cluster scheduler, whose jobs run elsewhere.
    /// </summary>
    public bool PrepareOnly { get; init; }
    public ISweepJobLauncher? Launcher { get; init; }
    public string CommandLine { get; init; } = "";
}

/// <summary>Starts one job of a sweep in its own process (the CLI runs itself with <c>--job NAME</c>).</summary>
public interface ISweepJobLauncher
{
    /// <returns>the exit code and, on failure, the child's error message</returns>
    Task<(int ExitCode, string Error)> Run(string sweepDir, string job, int threads, CancellationToken cancellation);
}

public sealed record SweepJobOutcome(string Name, bool Skipped, string Detail);

public sealed record SweepRunResult(string Root, IReadOnlyList<StageResult> Data, IReadOnlyList<SweepJobOutcome> Jobs);

/// <summary>
/// Runs a sweep (docs/sweeps.md): builds the shared corpus, tokenizer and shards once, then every
/// job = train (resumable) -> mean cache -> prune the tasks -> <c>job.json</c>, written last. A rerun
/// skips finished jobs and resumes the unfinished one from its last checkpoint and its finished
/// circuits. Jobs run one after another, or as <see cref="SweepOptions.Parallel"/> child processes
/// splitting the threads.
/// </summary>
public static class SweepRunner
{
    public static SweepRunResult Run(SweepOptions options, IProgressReporter progress, CancellationToken cancellation = default)
    {
        if (options.Parallel < 1) throw new SparseCircuitsException($"--parallel must be >= 1 (got {options.Parallel})");
        if (options.Parallel > 1 && options.Launcher is null) throw new ArgumentException("a parallel sweep needs a job launcher", nameof(options));
        if (options.PrepareOnly && options.OnlyJobs is not null) throw new SparseCircuitsException("--prepare-only runs no job; leave out --job");
        var layout = new SweepLayout(Path.GetFullPath(options.OutDir));
        bool child = options.OnlyJobs is not null;
        SweepSpec spec = ResolveSpec(layout, options.Spec); // reads only: a refused spec leaves no folder behind
        using DirectoryLock? sweepLock = child ? null : Lock(layout); // the children of a parallel sweep run under their parent's lock
        var data = Stages.Data(layout.Data, new CorpusOptions { Sources = spec.Data.Sources }, spec.Data.VocabSize, progress);
        var shards = ShardManifest.Load(layout.Shards);
        string tokenizerHash = shards.TokenizerHash;
        int parallel = Math.Min(options.Parallel, spec.Models.Count);
        int threadsPerJob = Math.Max(1, TorchRuntime.PlannedThreads() / parallel);

        var jobs = (options.OnlyJobs ?? spec.Models.Select(m => m.Name).ToList()).Select(spec.Model).ToList();
        var outcomes = new Dictionary<string, SweepJobOutcome>();
        var pending = new List<(SweepModel Model, string Fingerprint, double Cost)>();
        var reprune = new List<string>();
        foreach (SweepModel model in jobs)
        {
            var (done, pruningChanged, fingerprint) = Check(layout, spec, model, shards);
            if (pruningChanged) reprune.Add(model.Name);
            if (done is not null) outcomes[model.Name] = new SweepJobOutcome(model.Name, true, Describe(done));
            else pending.Add((model, fingerprint, Cost(spec, model, shards.VocabSize)));
        }
        // Stored only once every job agrees with it, so a refused spec leaves the sweep as it was.
        if (options.Spec is not null) AtomicFile.WriteAllText(layout.SpecFile, spec.ToJson() + "\n");
        if (options.PrepareOnly)
        {
            RecordSession(layout, spec, tokenizerHash, options, parallel, threadsPerJob);
            return new SweepRunResult(layout.Root, data, []);
        }
        foreach (string name in reprune) // same trained model, new pruning settings: only the circuits are redone
        {
            File.Delete(layout.JobResult(name));
            foreach (string circuits in layout.AllJobCircuits(name).ToList()) Directory.Delete(circuits, recursive: true);
        }
        if (!child) RecordSession(layout, spec, tokenizerHash, options, parallel, threadsPerJob);
        if (pending.Count > 0)
        {
            var clock = Stopwatch.StartNew();
            double total = pending.Sum(p => p.Cost), done = 0;
            using var bar = progress.Start($"sweep: {pending.Count} of {jobs.Count} jobs to run", total, "work");
            void Finished(SweepModel model, double cost, SweepJobOutcome outcome)
            {
                outcomes[model.Name] = outcome;
                done += cost;
                bar.Advance(cost);
                string eta = FormatEta(clock.Elapsed, done, total);
                bar.Status($"{outcomes.Count(o => !o.Value.Skipped)}/{pending.Count} done, ETA {eta}");
                progress.Info($"job {model.Name}: {outcome.Detail} (sweep ETA {eta})");
            }
            if (parallel <= 1 || child)
            {
                int index = 0;
                foreach (var (model, fingerprint, cost) in pending)
                {
                    cancellation.ThrowIfCancellationRequested();
                    bar.Status($"job {++index}/{pending.Count}: {model.Name}, ETA {FormatEta(clock.Elapsed, done, total)}");
                    var result = RunJob(layout, spec, model, fingerprint, options.CommandLine, progress, cancellation);
                    Finished(model, cost, new SweepJobOutcome(model.Name, false, Describe(result)));
                }
            }
            else RunParallel(layout, pending, parallel, threadsPerJob, options.Launcher!, bar, Finished, cancellation);
        }
        var failed = outcomes.Values.Where(o => o.Detail.StartsWith("failed", StringComparison.Ordinal)).ToList();
        if (failed.Count > 0)
            throw new SparseCircuitsException($"{failed.Count} job(s) failed: {string.Join("; ", failed.Select(f => $"{f.Name} {f.Detail}"))}; rerun to retry them");
        return new SweepRunResult(layout.Root, data, jobs.Select(m => outcomes[m.Name]).ToList());
    }

    /// <summary>
    /// Runs one job to completion in this process: train (or resume) -> means -> prune every task
    /// (keeping circuits already written) -> prefix edge curves -> <c>job.json</c>.
    /// </summary>
    public static SweepJobResult RunJob(SweepLayout layout, SweepSpec spec, SweepModel model, string fingerprint, string commandLine,
        IProgressReporter progress, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        AtomicFile.WriteJson(layout.JobStarted(model.Name), new { Format = 1, Name = model.Name, Fingerprint = fingerprint });
        Stages.Train(layout.JobModel(model.Name), layout.Shards, vocab => spec.TrainingConfig(model, vocab), commandLine, progress, cancellation);
        cancellation.ThrowIfCancellationRequested();
        using var trained = TrainedModel.Load(layout.JobModel(model.Name));
        Stages.Means(trained, layout.Shards, progress, spec.MeansTokens);
        cancellation.ThrowIfCancellationRequested();
        // Every repeat prunes the same prompts with its own mask-learning seeds, into its own folder.
        var summaries = new List<TaskSuiteSummary>();
        using (MeanActivations means = MeanCache.Load(ModelReference.Of(trained)))
            for (int repeat = 0; repeat < spec.PruneRepeats; repeat++)
            {
                if (spec.PruneRepeats > 1) progress.Info($"job {model.Name}: pruning repeat {repeat + 1} of {spec.PruneRepeats}");
                summaries.Add(TaskSuitePruning.Run(trained, means, spec.PruningConfig(repeat), layout.JobCircuits(model.Name, repeat), spec.Seed,
                    progress, spec.TaskOptions()));
                cancellation.ThrowIfCancellationRequested();
            }
        var tasks = summaries[0].Tasks.Select(row =>
        {
            var repeats = summaries.Select(s => s.Tasks.Single(t => t.Task == row.Task)).ToList();
            if (repeats.FirstOrDefault(r => !r.Pruned || r.CircuitFile is null) is { } missed)
                return new SweepTaskResult(row.Task, false, null, null, missed.Reason ?? "a pruning repeat found no circuit", []);
            Circuit circuit = CircuitFile.Load(Path.Combine(layout.JobCircuits(model.Name), row.CircuitFile!));
            return new SweepTaskResult(row.Task, true, row.Nodes, row.Edges, null, PrefixEdgeCurve.Compute(trained.Model, circuit),
                spec.PruneRepeats > 1 ? repeats.Select(r => r.Edges!.Value).ToList() : null);
        }).ToList();
        var store = new CheckpointStore(trained.Run.CheckpointsDir);
        double valLoss = store.List().FirstOrDefault(c => c.Step == trained.Step)?.ValLoss ?? double.NaN;
        var result = new SweepJobResult
        {
            Name = model.Name, Fingerprint = fingerprint, Dense = trained.Config.Dense, NLayer = trained.Config.Model.NLayer,
            DModel = trained.Config.Model.DModel, Parameters = trained.Config.Model.ParameterCount(), Nonzeros = Nonzeros(trained),
            WeightDensity = trained.Config.Dense ? 1 : trained.Config.WeightDensity, Step = trained.Step, ValLoss = valLoss,
            TargetLoss = spec.TargetLoss, Tasks = tasks, Seconds = clock.Elapsed.TotalSeconds,
            FinishedAt = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        };
        AtomicFile.WriteJson(layout.JobResult(model.Name), result);
        return result;
    }

    /// <summary>
    /// The jobs of <paramref name="spec"/> that a run in <paramref name="outDir"/> would still run,
    /// checked as <see cref="Run"/> checks them (data settings fixed per directory, a changed training
    /// refused) without writing anything. Before the shared data exists, every job.
    /// </summary>
    public static IReadOnlyList<string> JobsToRun(string outDir, SweepSpec spec)
    {
        var layout = new SweepLayout(Path.GetFullPath(outDir));
        ResolveSpec(layout, spec);
        if (!File.Exists(Path.Combine(layout.Shards, ShardManifest.FileName))) return spec.Models.Select(m => m.Name).ToList();
        var shards = ShardManifest.Load(layout.Shards);
        return spec.Models.Where(m => Check(layout, spec, m, shards).Done is null).Select(m => m.Name).ToList();
    }

    /// <summary>
    /// A job's result when it is finished with exactly these settings (else null), whether only its
    /// circuits must be redone, and its fingerprint; a changed training is refused.
    /// </summary>
    static (SweepJobResult? Done, bool PruningChanged, string Fingerprint) Check(SweepLayout layout, SweepSpec spec, SweepModel model, ShardManifest shards)
    {
        string fingerprint = Fingerprint(spec, model, shards.VocabSize, shards.TokenizerHash);
        bool pruningChanged = !CheckFingerprint(layout, spec, model, shards.VocabSize, fingerprint);
        return (pruningChanged ? null : SweepJobResult.TryLoad(layout.JobResult(model.Name)), pruningChanged, fingerprint);
    }

    /// <summary>
    /// Takes the sweep directory for this process: two sweeps writing one directory would train the
    /// same job twice and refuse each other's specs halfway, so the second one stops at once. A
    /// submission to a cluster scheduler holds it while it records its job ids.
    /// </summary>
    public static DirectoryLock Lock(SweepLayout layout) =>
        DirectoryLock.Acquire(layout.Root, Path.GetFileName(layout.LockFile), "another sweep");

    /// <summary>SHA-256 of everything that decides a job's results.</summary>
    public static string Fingerprint(SweepSpec spec, SweepModel model, int vocabSize, string tokenizerHash) =>
        Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(Json.Serialize(new
        {
            Training = spec.TrainingConfig(model, vocabSize), Pruning = spec.PruningConfig(), spec.PruneRepeats, spec.Tasks, spec.Prompts, spec.MeansTokens, spec.Seed,
            TokenizerHash = tokenizerHash,
        })));

    static SweepSpec ResolveSpec(SweepLayout layout, SweepSpec? given)
    {
        SweepSpec? stored = File.Exists(layout.SpecFile) ? SweepSpec.Load(layout.SpecFile) : null;
        if (given is null)
            return stored ?? throw new SparseCircuitsException($"{layout.Root} holds no sweep (no sweep.json); give a spec with --spec FILE|PRESET");
        given.Validate();
        if (stored is not null && (stored.Data.VocabSize != given.Data.VocabSize || !stored.Data.Sources.SequenceEqual(given.Data.Sources)))
            throw new SparseCircuitsException($"{layout.Root} was started with other data settings (sources or vocab_size); choose another --out");
        return given;
    }

    /// <summary>
    /// True when the job is new or was started with exactly these settings; false when only what
    /// follows training changed (its stored model config equals the spec's), so its circuits can be
    /// redone on the trained model. Any other change is refused: results must not mix.
    /// </summary>
    static bool CheckFingerprint(SweepLayout layout, SweepSpec spec, SweepModel model, int vocabSize, string fingerprint)
    {
        string path = layout.JobStarted(model.Name);
        if (!File.Exists(path)) return true;
        string stored = Json.ReadFile<System.Text.Json.Nodes.JsonObject>(path)["fingerprint"]?.GetValue<string>() ?? "";
        if (stored == fingerprint) return true;
        var run = new RunDirectory(layout.JobModel(model.Name));
        if (run.HasRun && Json.Serialize(run.ReadConfig()) == Json.Serialize(spec.TrainingConfig(model, vocabSize).Validate())) return false;
        throw new SparseCircuitsException($"job {model.Name} in {layout.Job(model.Name)} was started with other settings; rename the model in the spec or delete that folder");
    }

    static void RecordSession(SweepLayout layout, SweepSpec spec, string tokenizerHash, SweepOptions options, int parallel, int threads)
    {
        SweepManifest? previous = SweepManifest.TryLoad(layout);
        var session = new SweepSession(DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture), options.CommandLine, parallel, threads);
        AtomicFile.WriteJson(layout.ManifestFile, new SweepManifest(SweepManifest.CurrentFormat, ToolVersions.Current(),
            Hashing.Sha256File(layout.SpecFile), spec.Seed, tokenizerHash, Hashing.Sha256File(Path.Combine(layout.Shards, ShardManifest.FileName)),
            [.. previous?.Sessions ?? [], session], previous?.Submissions));
    }

    static void RunParallel(SweepLayout layout, List<(SweepModel Model, string Fingerprint, double Cost)> pending, int parallel, int threads,
        ISweepJobLauncher launcher, IProgressTask bar, Action<SweepModel, double, SweepJobOutcome> finished, CancellationToken cancellation)
    {
        var queue = new Queue<(SweepModel Model, string Fingerprint, double Cost)>(pending);
        var running = new Dictionary<Task<(int ExitCode, string Error)>, (SweepModel Model, string Fingerprint, double Cost)>();
        while (queue.Count > 0 || running.Count > 0)
        {
            while (running.Count < parallel && queue.Count > 0 && !cancellation.IsCancellationRequested)
            {
                var job = queue.Dequeue();
                running[launcher.Run(layout.Root, job.Model.Name, threads, cancellation)] = job;
                bar.Status($"running {string.Join(", ", running.Values.Select(j => j.Model.Name))}");
            }
            if (running.Count == 0) break;
            // The parent only waits and reads files; tensor work happens in the children.
            var completed = Task.WhenAny(running.Keys).GetAwaiter().GetResult();
            var (model, _, cost) = running[completed];
            running.Remove(completed);
            var (exitCode, error) = completed.IsCompletedSuccessfully ? completed.Result : (-1, completed.Exception?.GetBaseException().Message ?? "cancelled");
            SweepJobResult? result = exitCode == 0 ? SweepJobResult.TryLoad(layout.JobResult(model.Name)) : null;
            finished(model, cost, new SweepJobOutcome(model.Name, false, result is not null ? Describe(result)
                : $"failed (exit {exitCode}: {error}; log {layout.JobLog(model.Name)})"));
        }
        cancellation.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Relative cost of a job for the ETA: training FLOPs (6 x params x tokens) plus the mask
    /// steps of pruning (about 3x a forward per prompt token per search step).
    /// </summary>
    static double Cost(SweepSpec spec, SweepModel model, int vocabSize)
    {
        TrainingConfig config = spec.TrainingConfig(model, vocabSize);
        PruningConfig pruning = spec.PruningConfig();
        double parameters = config.Model.ParameterCount();
        double promptTokens = Math.Min(spec.Prompts.MaxPromptTokens ?? config.Model.NCtx, config.Model.NCtx);
        double training = 6 * parameters * config.Steps * config.TokensPerStep;
        double prune = 6 * parameters * spec.Tasks.Count * pruning.MaxRuns * pruning.Steps * pruning.BatchPrompts * promptTokens;
        return (training + prune) / 1e12;
    }

    static string FormatEta(TimeSpan elapsed, double done, double total) =>
        done <= 0 ? "after the first job" : TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (total - done)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    static string Describe(SweepJobResult r) =>
        $"{(r.Dense ? "dense" : $"density {r.WeightDensity:0.###}")}, width {r.DModel}, val {r.ValLoss:0.000}, " +
        $"{r.Tasks.Count(t => t.Pruned)}/{r.Tasks.Count} tasks pruned at {r.TargetLoss}";

    static long Nonzeros(TrainedModel trained)
    {
        long count = 0;
        foreach (var (_, p) in trained.Model.named_parameters())
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            count += p.count_nonzero().item<long>();
        }
        return count;
    }
}

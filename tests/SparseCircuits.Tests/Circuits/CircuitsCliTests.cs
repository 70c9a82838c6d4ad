using SparseCircuits.Circuits;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Circuits;

/// <summary>A tiny trained run shared by the CLI tests of `circuits means | prune | show`.</summary>
public sealed class TinyRun : IDisposable
{
    readonly SyntheticData _data = new();
    readonly TempDir _dir = new();

    public string RunDir => _dir["run"];
    public string TaskFile { get; }
    public string CorpusDir => _data.CorpusDir;
    public string ShardDir => _data.ShardDir;
    public string TokenizerDir => _data.TokenizerDir;

    public TinyRun()
    {
        var result = CliRunner.Run("train", "--preset", "tiny", "--data", _data.ShardDir, "--out", RunDir, "--quiet", "--max-steps", "10",
            "--set", "eval_interval=10", "--set", "checkpoint_interval=10", "--set", "model.n_ctx=32", "--set", "eval_tokens=256");
        if (result.ExitCode != 0) throw new InvalidOperationException(result.Stderr);
        TaskFile = _dir.Write("quotes.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(i =>
            $$"""{"positive": "xs = 'ab{{(char)('a' + i)}}", "negative": "xs = \"ab{{(char)('a' + i)}}", "tok": "'", "alt": "\""}""")));
    }

    public string this[string relative] => _dir[relative];
    public string Write(string relative, string text) => _dir.Write(relative, text);

    public void Dispose()
    {
        _dir.Dispose();
        _data.Dispose();
    }
}

public sealed class CircuitsCliTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Means_prune_and_show_end_to_end_with_clear_errors_on_the_way()
    {
        string fresh = run["fresh"];
        CopyDirectory(run.RunDir, fresh);
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", fresh, "--file", run.TaskFile, "--quiet"), "circuits means --model");

        var means = CliRunner.Run("means", "--model", fresh, "--tokens", "512", "--quiet");
        Assert.True(means.ExitCode == 0, means.Stderr);
        Assert.Contains("over 512 tokens", means.Stdout);
        Assert.True(File.Exists(Path.Combine(fresh, "means", "means.json")));

        // An untrained model cannot reach 0.15 on this task: say so, with its loss.
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", fresh, "--file", run.TaskFile, "--quiet"), "full model cannot reach the target");

        string outDir = run["out"];
        var prune = CliRunner.Run("prune", "--model", fresh, "--file", run.TaskFile, "--target-loss", "5", "--steps", "3", "--runs", "2",
            "--out", outDir, "--quiet");
        Assert.True(prune.ExitCode == 0, prune.Stderr);
        Assert.Contains("sufficiency", prune.Stdout);
        Circuit circuit = CircuitFile.Load(outDir);
        Assert.Equal("quotes", circuit.Task.Name);
        Assert.Equal(2, circuit.Search.Count);
        Assert.Equal(5, circuit.TargetLoss);

        var show = CliRunner.Run("show", "--circuit", outDir);
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.Contains("quotes:", show.Stdout);

        var attribution = CliRunner.Run("prune", "--model", fresh, "--file", run.TaskFile, "--target-loss", "5", "--method", "attribution",
            "--out", run["attr"], "--quiet");
        Assert.True(attribution.ExitCode == 0, attribution.Stderr);
        Assert.Equal(PruningMethod.Attribution, CircuitFile.Load(run["attr"]).Method);

        File.WriteAllText(Path.Combine(outDir, "circuit.json"), "{\"format\": 1,");
        CliRunner.AssertCleanError(CliRunner.Run("show", "--circuit", outDir), "damaged");
    }

    [Fact]
    public void Bad_prune_arguments()
    {
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--task", "no_such_task"), "no_such_task");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir), "--task NAME, --file F.jsonl or --all-tasks");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--method", "magic"), "--method");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--target-loss", "-1"), "target_loss");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--budget", "0"), "budget_minutes");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--runs", "0"), "runs");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--set", "k_coef_setpoint=2"), "k_coef_setpoint");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--set", "no_such_field=1"), "no_such_field");
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run["missing.jsonl"]), "file not found");
        CliRunner.AssertCleanError(CliRunner.Run("means", "--model", run["missing"]), "not found");
        CliRunner.AssertCleanError(CliRunner.Run("show", "--circuit", run["missing.json"]), "not found");
    }

    internal static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}

public sealed class PruneAllTasksCliTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    [Trait("Category", "Slow")]
    public void All_tasks_writes_a_summary_with_one_row_per_task()
    {
        string outDir = run["all-circuits"];
        var result = CliRunner.Run("prune", "--model", run.RunDir, "--all-tasks", "--compute-means", "--target-loss", "5", "--steps", "2",
            "--runs", "1", "--out", outDir, "--quiet");
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, TaskSuiteSummary.FileName)))!;
        var rows = summary["tasks"]!.AsArray();
        Assert.Equal(20, rows.Count);
        // A tiny model with a target of 5 nats: every expressible task prunes; the rest say why not.
        foreach (var row in rows)
        {
            bool pruned = row!["pruned"]!.GetValue<bool>();
            if (pruned) Assert.True(File.Exists(Path.Combine(outDir, row["circuit_file"]!.GetValue<string>())));
            else Assert.False(string.IsNullOrEmpty(row["reason"]!.GetValue<string>()));
            // Every task with prompts reports the full model on test and the loss with all nodes ablated.
            if (pruned)
            {
                Assert.InRange(row["test_accuracy"]!.GetValue<double>(), 0, 1);
                Assert.True(row["all_ablated_loss"]!.GetValue<double>() > 0);
                bool solved = row["test_accuracy"]!.GetValue<double>() >= 0.9 && row["test_loss"]!.GetValue<double>() <= 0.15;
                Assert.Equal(solved, row["solved"]!.GetValue<bool>());
            }
        }
        // The full model on each task's hand-written pairs, next to its test score.
        var handwritten = rows.Where(r => r!["handwritten_loss"] is not null).ToList();
        Assert.NotEmpty(handwritten);
        foreach (var row in handwritten)
        {
            double accuracy = row!["handwritten_accuracy"]!.GetValue<double>();
            Assert.InRange(accuracy, 0, 1);
            Assert.Equal(accuracy >= 0.9 && row["handwritten_loss"]!.GetValue<double>() <= 0.15, row["solved_handwritten"]!.GetValue<bool>());
        }
        Assert.Contains("solved on test", result.Stdout);
        Assert.Contains($"on hand-written pairs: {handwritten.Count(r => r!["solved_handwritten"]!.GetValue<bool>())} of {handwritten.Count}", result.Stdout);
        Assert.Contains("geometric mean", result.Stdout);
    }
}

/// <summary>Every command with <c>--json</c> writes one parseable document to stdout even when progress is shown (it goes to stderr).</summary>
public sealed class JsonOutputCliTests(TinyRun run) : IClassFixture<TinyRun>
{
    /// <summary>Every command with --json (CommandTreeTests checks the CLI has no other).</summary>
    public static readonly string[] Covered = ["eval", "compare", "tasks eval", "sample", "sweep status", "bridges eval", "bridges steer"]; // bridges: BridgesCliTests

    [Fact]
    public void Json_output_parses_with_progress_shown_and_stdout_redirected()
    {
        var commands = new[]
        {
            new[] { "eval", "--model", run.RunDir, "--tokens", "200", "--json" },
            new[] { "compare", run.RunDir, "--tokens", "200", "-n", "2", "--json" },
            new[] { "tasks", "eval", "--model", run.RunDir, "--file", run.TaskFile, "--split", "all", "--json" },
            new[] { "tasks", "eval", "--model", run.RunDir, "--task", "quote_assign", "-n", "8", "--json" },
            new[] { "sample", "--model", run.RunDir, "--next", "3", "--json" },
            new[] { "sweep", "status", SweepWithSpec(), "--json" },
        };
        foreach (string[] args in commands)
        {
            var result = CliRunner.Run(args); // no --quiet: progress bars are drawn
            Assert.True(result.ExitCode == 0, result.Stderr);
            System.Text.Json.JsonDocument.Parse(result.Stdout).Dispose();
        }
    }

    /// <summary>A sweep directory holding only its spec: status lists its jobs as not started.</summary>
    string SweepWithSpec()
    {
        string dir = run["status-sweep"];
        SparseCircuits.Core.AtomicFile.WriteAllText(new SparseCircuits.Sweeps.SweepLayout(dir).SpecFile, SparseCircuits.Sweeps.SweepPresets.Get("laptop").ToJson());
        return dir;
    }
}

/// <summary>Long commands stop on the first Ctrl+C with their outputs complete or absent.</summary>
public sealed class InterruptCliTests(TinyRun run) : IClassFixture<TinyRun>
{
    /// <summary>
    /// Every command of the CLI is here (CommandTreeTests walks the tree and checks): the long ones
    /// with the test that interrupts them (a real signal to the process, or the library call it
    /// makes with an interrupt at its first progress report), the short ones with why an interrupt
    /// does not matter.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Long = new Dictionary<string, string>
    {
        ["train"] = nameof(Train_stops_on_the_first_sigterm_with_only_complete_checkpoints),
        ["prune"] = nameof(Prune_stops_on_the_first_ctrl_c_and_writes_nothing),
        ["tasks eval"] = nameof(Tasks_eval_and_corpus_build_stop_on_the_first_ctrl_c_and_leave_no_partial_output),
        ["corpus build"] = nameof(Tasks_eval_and_corpus_build_stop_on_the_first_ctrl_c_and_leave_no_partial_output),
        ["run"] = nameof(Run_and_sweep_stop_on_the_first_ctrl_c_without_declaring_a_stage_done),
        ["sweep run"] = nameof(Run_and_sweep_stop_on_the_first_ctrl_c_without_declaring_a_stage_done),
        ["serve"] = nameof(Cli.ReportCliTests.Serve_answers_on_loopback_refuses_traversal_and_stops_on_ctrl_c),
        ["means"] = nameof(InterruptedWorkTests.Means_stop_and_write_no_cache),
        ["eval"] = nameof(InterruptedWorkTests.Evaluation_stops_at_its_first_report),
        ["compare"] = nameof(InterruptedWorkTests.Scorecard_stops_at_its_first_report),
        ["tokenizer train"] = nameof(InterruptedWorkTests.Tokenizer_training_stops_and_writes_no_tokenizer),
        ["corpus tokenize"] = nameof(InterruptedWorkTests.Tokenizing_a_corpus_stops_and_writes_no_shards),
        ["tasks mine"] = nameof(InterruptedWorkTests.Mining_and_sampling_check_the_cancellation_token),
        ["sample"] = nameof(InterruptedWorkTests.Mining_and_sampling_check_the_cancellation_token),
        ["report"] = nameof(Reports.ReportBuilderTests.Stops_at_its_first_progress_report_once_interrupted),
        ["bridges train"] = nameof(Bridges.BridgeTrainingTests.Bridges_train_stops_at_its_first_report_once_interrupted),
        ["bridges eval"] = nameof(Bridges.BridgeSteeringTests.Evaluation_reports_every_site_and_stops_at_its_first_report_once_interrupted),
    };

    public static readonly IReadOnlyDictionary<string, string> Short = new Dictionary<string, string>
    {
        ["tasks list"] = "prints a table", ["tasks show"] = "prints a few pairs", ["tasks export"] = "writes one task's pairs at once",
        ["show"] = "prints one circuit", ["tokenizer encode"] = "encodes one text", ["tokenizer decode"] = "decodes one list",
        ["frontier"] = "reads finished job results and plots them: seconds",
        ["sweep status"] = "reads a sweep directory and the Slurm queue",
        ["import official"] = "reads and writes the weights once, atomically: 1 s for the fixture, 15 s for a 1.6 GB model",
        ["export official"] = "writes the weights once, atomically: 16 s for a 1.6 GB model",
        ["bridges steer"] = "a few hundred short prompts through the dense model per strength and channel: seconds; files written at the end, atomically",
    };

    [Fact]
    [Trait("Category", "Slow")]
    public void Prune_stops_on_the_first_ctrl_c_and_writes_nothing()
    {
        string outDir = run["interrupted"];
        // A mask search of a million steps would run for hours.
        StopsOnFirstSignal("INT", ["prune", "--model", run.RunDir, "--file", run.TaskFile, "--compute-means",
            "--steps", "1000000", "--runs", "1", "--target-loss", "5", "--out", outDir]);
        Assert.False(File.Exists(Path.Combine(outDir, "circuit.json")), "a circuit was written after the interrupt");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_stops_on_the_first_sigterm_with_only_complete_checkpoints()
    {
        string outDir = run["interrupted-train"];
        bool HasCompleteCheckpoint() => Directory.Exists(Path.Combine(outDir, "checkpoints"))
            && Directory.GetDirectories(Path.Combine(outDir, "checkpoints")).Any(d => File.Exists(Path.Combine(d, SparseCircuits.Training.CheckpointStore.CompleteFile)));
        StopsOnFirstSignal("TERM", ["train", "--preset", "tiny", "--data", run.ShardDir, "--out", outDir, "--set", "steps=1000000",
            "--set", "checkpoint_interval=5", "--set", "eval_interval=5", "--set", "eval_tokens=128", "--set", "model.n_ctx=32"],
            readyToInterrupt: HasCompleteCheckpoint);
        // Whatever was saved is whole (a half-written checkpoint stays in a hidden work directory, removed on resume).
        var checkpoints = Directory.GetDirectories(Path.Combine(outDir, "checkpoints")).Where(d => !Path.GetFileName(d).StartsWith('.')).ToList();
        Assert.NotEmpty(checkpoints);
        foreach (string checkpoint in checkpoints)
            Assert.True(File.Exists(Path.Combine(checkpoint, SparseCircuits.Training.CheckpointStore.CompleteFile)), $"{checkpoint} is incomplete");
        var resumed = CliRunner.Run("train", "--out", outDir, "--resume", "--data", run.ShardDir, "--stop-after", "1");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Tasks_eval_and_corpus_build_stop_on_the_first_ctrl_c_and_leave_no_partial_output()
    {
        // 100,000 pairs of every task one prompt at a time, and a corpus of 2 GB of generated programs, would both run for many minutes.
        StopsOnFirstSignal("INT", ["tasks", "eval", "--model", run.RunDir, "-n", "100000", "--batch-size", "1", "--json"]);
        string corpus = run["interrupted-corpus"];
        StopsOnFirstSignal("INT", ["corpus", "build", "--synthetic", "2GB", "--synthetic-only", "--out", corpus]);
        Assert.False(File.Exists(Path.Combine(corpus, "manifest.json")), "a corpus was declared complete after the interrupt");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Run_and_sweep_stop_on_the_first_ctrl_c_without_declaring_a_stage_done()
    {
        using var dir = new TempDir();
        // A million training steps: both are inside a stage that would run for hours when the signal comes.
        var spec = Sweeps.SweepRunnerTests.TinySpec(dir);
        spec.Training!["steps"] = 1_000_000;
        string specFile = dir.Write("spec.json", spec.ToJson());
        StopsOnFirstSignal("INT", ["sweep", "--spec", specFile, "--out", dir["sweep"]]);
        var layout = new SparseCircuits.Sweeps.SweepLayout(dir["sweep"]);
        Assert.False(File.Exists(layout.JobResult("sparse")), "a job was declared finished after the interrupt");

        StopsOnFirstSignal("INT", ["run", "--source", dir["src"], "--synthetic", "1MB", "--preset", "tiny", "--vocab", "300",
            "--set", "steps=1000000", "--set", "model.n_ctx=32", "--out", dir["pipeline"]]);
        Assert.False(File.Exists(new SparseCircuits.Pipeline.PipelineLayout(dir["pipeline"]).Report), "the pipeline wrote its report after the interrupt");
    }

    /// <summary>
    /// Starts the command, interrupts it after 4 s (or, with <paramref name="readyToInterrupt"/>, once that
    /// holds: a loaded machine may need longer to reach the state the test checks) and checks it stops at once.
    /// Synchronous on purpose: an awaited delay resumes on one of xunit's worker threads (as many as cores),
    /// which other tests may hold for minutes, so the signal could come only after the command had finished.
    /// </summary>
    static void StopsOnFirstSignal(string signal, string[] args, Func<bool>? readyToInterrupt = null)
    {
        using var process = CliRunner.StartInForeground(args);
        try
        {
            var stderr = Task.Run(() => process.StandardError.ReadToEnd());
            var stdout = Task.Run(() => process.StandardOutput.ReadToEnd());
            bool exitedEarly = process.WaitForExit(TimeSpan.FromSeconds(4));
            for (var waited = System.Diagnostics.Stopwatch.StartNew(); !exitedEarly && readyToInterrupt is not null && !readyToInterrupt()
                 && waited.Elapsed < TimeSpan.FromMinutes(2);)
                exitedEarly = process.WaitForExit(TimeSpan.FromMilliseconds(200));
            if (exitedEarly) Assert.Fail($"{args[0]} finished before it could be interrupted (exit code {process.ExitCode}): " + stderr.Result);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            CliRunner.Interrupt(process, signal);
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), $"{args[0]} ignored SIG{signal}");
            Assert.NotEqual(0, process.ExitCode);
            Assert.Contains("interrupted", stderr.Result);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"stopped after {clock.Elapsed.TotalSeconds:0} s");
            _ = stdout.Result;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}

/// <summary>Output paths that cannot be written are refused before any work starts.</summary>
public sealed class OutputPathCliTests(TinyRun run) : IClassFixture<TinyRun>
{
    /// <summary>Every command with an output path (CommandTreeTests checks the CLI has no other).</summary>
    public static readonly string[] Covered =
        ["corpus build", "corpus tokenize", "tokenizer train", "train", "tasks export", "tasks mine", "prune", "report", "run", "sweep run", "frontier",
         "import official", "export official", "bridges train"]; // bridges train: BridgesCliTests

    [Fact]
    public void Unwritable_outputs_are_refused_before_the_work()
    {
        string dir = run["outputs"];
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        CliRunner.AssertCleanError(CliRunner.Run("report", "--model", run.RunDir, "--out", dir), "is a directory");
        CliRunner.AssertCleanError(CliRunner.Run("report", "--model", run.RunDir, "--out", "/proc/x.html"), "cannot be written");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "export", "for_while", "--out", dir), "is a directory");
        CliRunner.AssertCleanError(CliRunner.Run("train", "--preset", "tiny", "--data", dir, "--out", "/proc/x"), "cannot be written");
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "build", "--source", run.CorpusDir, "--out", file), "is a file");
        CliRunner.AssertCleanError(CliRunner.Run("corpus", "tokenize", "--corpus", run.CorpusDir, "--tokenizer", run.TokenizerDir, "--out", "/proc/x"), "cannot be written");
        CliRunner.AssertCleanError(CliRunner.Run("tokenizer", "train", "--corpus", run.CorpusDir, "--out", file), "is a file");
        CliRunner.AssertCleanError(CliRunner.Run("tasks", "mine", "for_while", "--corpus", run.CorpusDir, "--out", dir), "is a directory");
        CliRunner.AssertCleanError(CliRunner.Run("run", "--source", run.CorpusDir, "--out", "/proc/x"), "cannot be written");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--spec", "laptop", "--out", file), "is a file");
        CliRunner.AssertCleanError(CliRunner.Run("frontier", dir, "--out", file), "is a file");
        CliRunner.AssertCleanError(CliRunner.Run("import", "official", Official.ReleaseFixtures.TinyModel, "--out", file), "is a file");
        CliRunner.AssertCleanError(CliRunner.Run("export", "official", run.RunDir, "--out", "/proc/x"), "cannot be written");
        // prune used to fail only after its whole search.
        CliRunner.AssertCleanError(CliRunner.Run("prune", "--model", run.RunDir, "--file", run.TaskFile, "--target-loss", "5", "--compute-means",
            "--steps", "100000", "--out", file), "is a file");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed.TotalSeconds:0} s");
        Assert.Equal("x", File.ReadAllText(file));
    }
}

using System.Text.Json.Nodes;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Sweeps;

/// <summary>A tiny sweep (two tiny models, one short custom task, a few steps) run, interrupted and resumed.</summary>
public sealed class SweepRunnerTests
{
    /// <summary>Sources of generated Python and a short custom task; the spec of two tiny models.</summary>
    internal static SweepSpec TinySpec(TempDir dir)
    {
        int i = 0;
        foreach (string doc in SyntheticData.CopyTaskDocuments(300, seed: 3)) dir.Write($"src/f{i++}.py", doc);
        string task = dir.Write("quotes.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(k =>
            $$"""{"positive": "xs = 'ab{{(char)('a' + k)}}", "negative": "xs = \"ab{{(char)('a' + k)}}", "tok": "'", "alt": "\""}""")));
        return new SweepSpec
        {
            Name = "tiny",
            Data = new SweepData([dir["src"]], 300),
            Training = JsonNode.Parse("""{"steps": 6, "model": {"n_ctx": 32}, "eval_interval": 3, "checkpoint_interval": 3, "eval_tokens": 256}""")!.AsObject(),
            Models =
            [
                new SweepModel { Name = "sparse", Preset = "tiny" },
                new SweepModel { Name = "dense", Preset = "tiny", Dense = true },
            ],
            Tasks = [task],
            TargetLoss = 5, // an untrained model reaches it: this test is about the bookkeeping
            Pruning = JsonNode.Parse("""{"steps": 3, "runs": 1, "control_sets": 2, "batch_prompts": 8}""")!.AsObject(),
            MeansTokens = 512,
        }.Validate();
    }

    /// <summary>Once the first job has reported it is done, cancels the sweep in the middle of the next job's training (after step 4).</summary>
    sealed class InterruptSecondJob(CancellationTokenSource cts) : IProgressReporter, IProgressTask
    {
        bool _firstDone, _training;
        double _step;
        public IProgressTask Start(string description, double total, string unit)
        {
            _training = _firstDone && description == "training";
            return this;
        }
        public void Info(string message) => _firstDone |= message.StartsWith("job ", StringComparison.Ordinal);
        public void Advance(double amount) => Set(_step + amount);
        public void Set(double value)
        {
            _step = value;
            if (_training && value >= 4) cts.Cancel();
        }
        public void Status(string status) { }
        public void Dispose() { }
    }

    [Fact]
    public void A_second_sweep_on_a_directory_in_use_stops_with_a_clear_error()
    {
        using var dir = new TempDir();
        var layout = new SweepLayout(dir["sweep"]);
        Directory.CreateDirectory(layout.Root);
        var options = new SweepOptions { OutDir = layout.Root, Spec = TinySpec(dir) };
        using (new FileStream(layout.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var e = Assert.Throws<SparseCircuitsException>(() => SweepRunner.Run(options, NullProgress.Instance));
            Assert.Contains($"another sweep is running in {layout.Root}", e.Message);
            Assert.False(File.Exists(layout.SpecFile)); // nothing was started
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void An_interrupted_sweep_resumes_without_redoing_finished_jobs()
    {
        using var dir = new TempDir();
        SweepSpec spec = TinySpec(dir);
        var options = new SweepOptions { OutDir = dir["sweep"], Spec = spec };
        var layout = new SweepLayout(dir["sweep"]);

        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() => SweepRunner.Run(options, new InterruptSecondJob(cts), cts.Token));
        Assert.True(File.Exists(layout.JobResult("sparse")));
        Assert.False(File.Exists(layout.JobResult("dense")));
        string firstResult = File.ReadAllText(layout.JobResult("sparse"));
        DateTime circuitWritten = File.GetLastWriteTimeUtc(Path.Combine(layout.JobCircuits("sparse"), "quotes", CircuitFile.FileName));

        // Resumed from the stored spec (no spec given), as `circuits sweep --out DIR` does.
        var resumed = SweepRunner.Run(options with { Spec = null }, NullProgress.Instance);
        Assert.Equal([("sparse", true), ("dense", false)], resumed.Jobs.Select(j => (j.Name, j.Skipped)));
        Assert.All(resumed.Data, stage => Assert.True(stage.Skipped, stage.Stage));
        Assert.Equal(firstResult, File.ReadAllText(layout.JobResult("sparse")));
        Assert.Equal(circuitWritten, File.GetLastWriteTimeUtc(Path.Combine(layout.JobCircuits("sparse"), "quotes", CircuitFile.FileName)));

        // The interrupted job's training went on from its checkpoint instead of starting over.
        var sessions = Json.ReadFile<SparseCircuits.Training.RunManifest>(Path.Combine(layout.JobModel("dense"), "manifest.json")).Sessions;
        Assert.Equal(2, sessions.Count);
        Assert.True(sessions[1].FromStep >= 3, $"resumed from step {sessions[1].FromStep}");
        var dense = SweepJobResult.TryLoad(layout.JobResult("dense"))!;
        Assert.True(dense.Dense);
        Assert.True(dense.Nonzeros > 0.9 * dense.Parameters);
        var task = Assert.Single(dense.Tasks);
        Assert.True(task.Pruned, task.Reason);
        // The curve's last point is the circuit itself when the cut is one of its prefixes.
        Assert.Contains(task.Curve, p => p.Edges == task.Edges && p.Nodes == task.Nodes);
        var sparse = SweepJobResult.TryLoad(layout.JobResult("sparse"))!;
        Assert.True(sparse.Nonzeros < sparse.Parameters);

        // A third run has nothing to do; a changed job is refused instead of mixed with old results.
        Assert.All(SweepRunner.Run(options, NullProgress.Instance).Jobs, j => Assert.True(j.Skipped));
        var changed = spec with { Models = [spec.Models[0] with { Training = JsonNode.Parse("""{"weight_density": 0.5}""")!.AsObject() }, spec.Models[1]] };
        var e = Assert.Throws<SparseCircuitsException>(() => SweepRunner.Run(options with { Spec = changed }, NullProgress.Instance));
        Assert.Contains("job sparse", e.Message);
        Assert.Equal(spec.ToJson(), SweepSpec.Load(layout.SpecFile).ToJson()); // the refused spec was not stored
        Assert.Equal(3, Json.ReadFile<SweepManifest>(layout.ManifestFile).Sessions.Count);

        // A new target only redoes the circuits, on the same trained models.
        DateTime trained = File.GetLastWriteTimeUtc(Path.Combine(layout.JobModel("sparse"), "config.json"));
        string checkpoints = string.Join(",", Directory.GetDirectories(Path.Combine(layout.JobModel("sparse"), "checkpoints")).Order());
        var looser = spec with { TargetLoss = 6 };
        var repruned = SweepRunner.Run(options with { Spec = looser }, NullProgress.Instance);
        Assert.All(repruned.Jobs, j => Assert.False(j.Skipped));
        Assert.Equal(6, SweepJobResult.TryLoad(layout.JobResult("sparse"))!.TargetLoss);
        Assert.Equal(6, CircuitFile.Load(Path.Combine(layout.JobCircuits("sparse"), "quotes")).TargetLoss);
        Assert.Equal(trained, File.GetLastWriteTimeUtc(Path.Combine(layout.JobModel("sparse"), "config.json")));
        Assert.Equal(checkpoints, string.Join(",", Directory.GetDirectories(Path.Combine(layout.JobModel("sparse"), "checkpoints")).Order()));
        Assert.Single(Json.ReadFile<SparseCircuits.Training.RunManifest>(Path.Combine(layout.JobModel("sparse"), "manifest.json")).Sessions);

        // Pruning repeats: each in its own folder with its own mask seeds, every repeat's edges in job.json.
        var repeated = looser with { PruneRepeats = 2 };
        Assert.All(SweepRunner.Run(options with { Spec = repeated }, NullProgress.Instance).Jobs, j => Assert.False(j.Skipped));
        var result = SweepJobResult.TryLoad(layout.JobResult("sparse"))!;
        var quotes = Assert.Single(result.Tasks);
        Circuit first = CircuitFile.Load(Path.Combine(layout.JobCircuits("sparse", 0), "quotes"));
        Circuit second = CircuitFile.Load(Path.Combine(layout.JobCircuits("sparse", 1), "quotes"));
        Assert.Equal(layout.JobCircuits("sparse"), layout.JobCircuits("sparse", 0));
        Assert.Equal(repeated.PruningConfig().Seed + 1000, second.Hyperparameters.Seed);
        Assert.True(quotes.Pruned, quotes.Reason);
        Assert.Equal([first.Edges.Count, second.Edges.Count], quotes.RepeatEdges);
        Assert.Equal(first.Edges.Count, quotes.Edges);
        // Back to one repeat: the second repeat's folder goes with the old circuits.
        SweepRunner.Run(options with { Spec = looser }, NullProgress.Instance);
        Assert.False(Directory.Exists(layout.JobCircuits("sparse", 1)));
        Assert.Null(Assert.Single(SweepJobResult.TryLoad(layout.JobResult("sparse"))!.Tasks).RepeatEdges);
    }
}

using SparseCircuits.Core;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Sweeps;

/// <summary>`circuits sweep` and `circuits frontier` as a user runs them.</summary>
public sealed class SweepCliTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Parallel_sweep_then_frontier_end_to_end()
    {
        using var dir = new TempDir();
        string specFile = dir.Write("spec/sweep.json", SweepRunnerTests.TinySpec(dir).ToJson());
        var sweep = CliRunner.Run("sweep", "--spec", specFile, "--out", dir["sweep"], "--parallel", "2", "--threads", "2", "--quiet");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr + sweep.Stdout);
        Assert.Contains("next: circuits frontier", sweep.Stdout);
        var layout = new SweepLayout(dir["sweep"]);
        foreach (string job in new[] { "sparse", "dense" })
        {
            Assert.True(File.Exists(layout.JobResult(job)), job);
            Assert.Contains("--threads 1", File.ReadAllText(Path.Combine(layout.JobModel(job), "manifest.json")));
        }
        var manifest = Json.ReadFile<SweepManifest>(layout.ManifestFile);
        Assert.Equal((2, 1), (manifest.Sessions.Single().Parallel, manifest.Sessions.Single().ThreadsPerJob));

        var again = CliRunner.Run("sweep", "--out", dir["sweep"], "--quiet");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(2, again.Stdout.Split("already done").Length - 1);

        var frontier = CliRunner.Run("frontier", dir["sweep"]);
        Assert.True(frontier.ExitCode == 0, frontier.Stderr + frontier.Stdout);
        foreach (string file in new[] { "table.csv", "table.json", "comparison.json", "frontier.png", "frontier.svg", "edges_vs_target.png", "edges_vs_target.svg" })
            Assert.True(new FileInfo(dir[$"sweep/frontier/{file}"]).Length > 0, file);
        // Target 5 is met with every node ablated: an empty circuit, which the frontier must not count.
        Assert.Contains("Left out as trivial (reached with an empty circuit on some model): quotes", frontier.Stdout);
        Assert.Contains("sparse", File.ReadAllText(dir["sweep/frontier/table.csv"]));
    }

    [Fact]
    public void Bad_input_gives_one_clear_error_line()
    {
        using var dir = new TempDir();
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--spec", "cluster", "--out", dir["s"]), "not a built-in preset: laptop, workstation");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--out", dir["s"]), "holds no sweep");
        Assert.False(Directory.Exists(dir["s"])); // a refused command leaves nothing behind
        CliRunner.AssertCleanError(CliRunner.Run("sweep"), "give --spec");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--spec", dir.Write("empty.json", "{ \"tasks\": [\"else_elif\"] }"), "--out", dir["s"]), "models is empty");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--spec", dir.Write("typo.json", "{ \"modles\": [] }"), "--out", dir["s"]), "unknown field at 'modles'");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--spec", "laptop", "--out", dir["s"], "--parallel", "0"), "--parallel must be >= 1");
        CliRunner.AssertCleanError(CliRunner.Run("frontier", dir["missing"]), "sweep directory not found");
        Directory.CreateDirectory(dir["plain"]);
        CliRunner.AssertCleanError(CliRunner.Run("frontier", dir["plain"]), "not a sweep");
        var layout = new SweepLayout(dir["unfinished"]);
        AtomicFile.WriteAllText(layout.SpecFile, SweepPresets.Get("laptop").ToJson());
        CliRunner.AssertCleanError(CliRunner.Run("frontier", dir["unfinished"]), "no finished job yet");
        CliRunner.AssertCleanError(CliRunner.Run("frontier", dir["unfinished"], dir["plain"]), "give --out DIR when pooling several sweeps");
        CliRunner.AssertCleanError(CliRunner.Run("frontier", dir["unfinished"], dir["plain"], "--out", dir["pooled"]), "not a sweep");
    }

    [Fact]
    public void Slurm_options_that_do_not_fit_together_or_a_machine_without_slurm_give_one_clear_error_line()
    {
        using var dir = new TempDir();
        string[] sweep = ["sweep", "--spec", "laptop", "--out", dir["s"]];
        CliRunner.AssertCleanError(CliRunner.Run([.. sweep, "--partition", "debug"]), "--partition needs --scheduler slurm");
        CliRunner.AssertCleanError(CliRunner.Run([.. sweep, "--scheduler", "pbs"]), "--scheduler must be slurm (got 'pbs')");
        CliRunner.AssertCleanError(CliRunner.Run([.. sweep, "--scheduler", "slurm", "--parallel", "2"]), "leave out --parallel");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--resubmit-failed", dir["s"], "--spec", "laptop"), "takes only the Slurm options");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "--resubmit-failed", dir["s"]), "sweep directory not found");
        CliRunner.AssertCleanError(CliRunner.Run("sweep", "status", dir["s"]), "sweep directory not found");
        // sbatch is found on PATH: without it, one line says so and nothing is written.
        CliRunner.AssertCleanError(CliRunner.Run(new Dictionary<string, string> { ["PATH"] = dir["no-bin"] }, [.. sweep, "--scheduler", "slurm"]),
            "sbatch not found on PATH");
        Assert.False(Directory.Exists(dir["s"]));
    }
}

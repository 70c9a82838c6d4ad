using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using SparseCircuits.Core;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;
using SparseCircuits.Tests.Sweeps;

namespace SparseCircuits.Tests.Slurm;

/// <summary>A tiny sweep through a real Slurm cluster on this machine (<see cref="LocalSlurmCluster"/>), as a user runs it.</summary>
[SupportedOSPlatform("linux")]
public sealed class SlurmEndToEndTests
{
    static readonly TimeSpan JobsTimeout = TimeSpan.FromMinutes(15);

    [Fact]
    [Trait("Category", "Slow")]
    public void A_sweep_through_a_real_slurm_cluster_finishes_every_job_after_a_resubmission_and_equals_the_same_sweep_run_locally()
    {
        using var cluster = LocalSlurmCluster.Start();
        using var dir = new TempDir();
        SweepSpec tiny = SweepRunnerTests.TinySpec(dir);
        SweepSpec spec = tiny with
        {
            Models = [.. tiny.Models, new SweepModel { Name = "sparse-half", Preset = "tiny", Training = JsonNode.Parse("""{"weight_density": 0.5}""")!.AsObject() }],
        };
        string specFile = dir.Write("spec/sweep.json", spec.ToJson());
        string root = dir["on-slurm"];
        var layout = new SweepLayout(root);
        var slurm = cluster.Environment;
        string[] submit = ["sweep", "--spec", specFile, "--out", root, "--scheduler", "slurm", "--partition", LocalSlurmCluster.Partition,
            "--cpus-per-job", "1", "--mem", "1G", "--time", "00:20:00", "--account", "sctest", "--quiet"];

        CliRunner.AssertCleanError(CliRunner.Run(slurm, [.. submit[..7], "--partition", "nope"]), "unknown partition 'nope': the cluster has sctest");

        // The dense job fails at first: a file stands where its model folder goes.
        Directory.CreateDirectory(layout.Job("dense"));
        File.WriteAllText(layout.JobModel("dense"), "in the way");
        var submitted = CliRunner.Run(slurm, submit);
        Assert.True(submitted.ExitCode == 0, submitted.Stderr + submitted.Stdout);
        Assert.Contains("submitted data job", submitted.Stdout);
        string stuck = Assert.Single(cluster.WaitUntilSettled(JobsTimeout)); // the frontier job, waiting on the failed task forever

        JsonNode status = Status(slurm, root);
        Assert.Equal("finished", status["data"]!["phase"]!.GetValue<string>());
        Assert.Equal([("sparse", "finished"), ("dense", "failed"), ("sparse-half", "finished")], Phases(status));
        Assert.Equal(("stuck", stuck.Split('|')[0]), (status["frontier"]!["phase"]!.GetValue<string>(), status["frontier"]!["slurm_id"]!.GetValue<string>()));
        // This cluster keeps no accounting: status says so and judges by the directory.
        Assert.Contains(status["notes"]!.AsArray(), n => n!.GetValue<string>().Contains("accounting storage is disabled", StringComparison.Ordinal));
        // Its Slurm log, which status points to, shows why.
        Assert.Contains($"{layout.JobModel("dense")}' already exists", File.ReadAllText(status["jobs"]![1]!["log"]!.GetValue<string>()));

        File.Delete(layout.JobModel("dense"));
        var resubmitted = CliRunner.Run(slurm, "sweep", "--resubmit-failed", root, "--time", "00:15:00");
        Assert.True(resubmitted.ExitCode == 0, resubmitted.Stderr + resubmitted.Stdout);
        Assert.Contains($"cancelled {stuck.Split('|')[0]}", resubmitted.Stdout);
        Assert.Contains("job array: dense", resubmitted.Stdout);
        Assert.Empty(cluster.WaitUntilSettled(JobsTimeout));

        status = Status(slurm, root);
        Assert.All(Phases(status), p => Assert.Equal("finished", p.Phase));
        Assert.Equal("finished", status["frontier"]!["phase"]!.GetValue<string>());
        var manifest = SweepManifest.TryLoad(layout)!;
        Assert.Equal(2, manifest.Submissions!.Count);
        Assert.Equal([new SweepSubmittedJob("dense", 1)], manifest.Submissions[1].ArrayTasks);
        Assert.Contains("--prepare-only", Assert.Single(manifest.Sessions).CommandLine); // the data job's session
        Assert.NotNull(manifest.TokenizerHash);

        // Submitting again finds nothing left to do.
        var again = CliRunner.Run(slurm, submit);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("nothing to submit", again.Stdout);

        // The same spec run here with --parallel gives the same frontier, byte for byte.
        string local = dir["local"];
        var parallel = CliRunner.Run("sweep", "--spec", specFile, "--out", local, "--parallel", "2", "--threads", "2", "--quiet");
        Assert.True(parallel.ExitCode == 0, parallel.Stderr + parallel.Stdout);
        var frontier = CliRunner.Run("frontier", local, "--quiet");
        Assert.True(frontier.ExitCode == 0, frontier.Stderr + frontier.Stdout);
        string[] Files(string sweep) => Directory.GetFiles(Path.Combine(sweep, "frontier")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(Files(local), Files(root));
        Assert.Contains("table.csv", Files(root));
        foreach (string file in Files(root))
            Assert.True(File.ReadAllBytes(Path.Combine(local, "frontier", file)).SequenceEqual(File.ReadAllBytes(Path.Combine(root, "frontier", file))), $"{file} differs");
        // The jobs' results too, but for when and how long each ran.
        foreach (SweepModel model in spec.Models)
        {
            JsonObject Result(string sweep)
            {
                var json = JsonNode.Parse(File.ReadAllText(new SweepLayout(sweep).JobResult(model.Name)))!.AsObject();
                json.Remove("seconds");
                json.Remove("finished_at");
                return json;
            }
            Assert.Equal(Result(local).ToJsonString(), Result(root).ToJsonString());
        }
    }

    static JsonNode Status(IReadOnlyDictionary<string, string> slurm, string root)
    {
        var status = CliRunner.Run(slurm, "sweep", "status", root, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr + status.Stdout);
        return JsonNode.Parse(status.Stdout)!;
    }

    static List<(string Name, string Phase)> Phases(JsonNode status) =>
        status["jobs"]!.AsArray().Select(j => (j!["name"]!.GetValue<string>(), j["phase"]!.GetValue<string>())).ToList();
}

using SparseCircuits.Core;
using SparseCircuits.Slurm;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Slurm;

/// <summary>Submitting a sweep to Slurm: the sbatch chain, the ids in the manifest, reruns, and the errors a user can cause.</summary>
public sealed class SlurmSubmissionTests
{
    [Fact]
    public void A_submission_chains_data_array_and_frontier_and_records_their_ids_before_the_data_job_is_released()
    {
        using var dir = new TempDir();
        SweepSpec spec = SlurmTestSweep.Spec(dir);
        var layout = new SweepLayout(dir["sweep"]);
        var slurm = new FakeSlurm();
        SweepSubmission? recordedAtRelease = null;
        slurm.OnRelease = _ =>
        {
            recordedAtRelease = Assert.Single(SweepManifest.TryLoad(layout)!.Submissions!);
            using (SweepRunner.Lock(layout)) { } // the data job can take the sweep's lock as soon as it starts
        };

        var result = SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec, new SlurmOptions { Partition = "debug" }), slurm);

        Assert.Equal(["sbatch data.sbatch", "sbatch jobs.sbatch", "sbatch frontier.sbatch", "scontrol release 100"], slurm.Calls);
        var (data, jobs, frontier) = (slurm.Script("data.sbatch"), slurm.Script("jobs.sbatch"), slurm.Script("frontier.sbatch"));
        Assert.True(data.Held);
        Assert.Null(data.Option("--dependency"));
        Assert.Equal(("0-1", "afterok:100"), (jobs.Option("--array"), jobs.Option("--dependency")));
        Assert.False(jobs.Held);
        Assert.Equal("afterok:101", frontier.Option("--dependency"));

        var manifest = SweepManifest.TryLoad(layout)!;
        SweepSubmission submission = Assert.Single(manifest.Submissions!);
        Assert.Equal(Json.Serialize(submission), Json.Serialize(recordedAtRelease));
        Assert.Equal(Json.Serialize(submission), Json.Serialize(result.Submission));
        Assert.Equal(("slurm", "100", "101", "102"), (submission.Scheduler, submission.DataJobId, submission.ArrayJobId, submission.FrontierJobId));
        Assert.Equal([new SweepSubmittedJob("sparse", 0), new SweepSubmittedJob("dense", 1)], submission.ArrayTasks);
        Assert.Equal("101_1", submission.TaskId("dense"));
        Assert.Equal(Hashing.Sha256File(new SlurmFiles(layout).Spec), manifest.SpecSha256);
        Assert.Null(manifest.TokenizerHash); // filled in by the data job's session
        Assert.Empty(manifest.Sessions);
    }

    [Fact]
    public void A_second_submission_is_refused_while_jobs_of_the_first_are_queued()
    {
        using var dir = new TempDir();
        SweepSpec spec = SlurmTestSweep.Spec(dir, models: 3);
        var layout = new SweepLayout(dir["sweep"]);
        var slurm = new FakeSlurm();
        SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), slurm);
        string jobsScript = File.ReadAllText(new SlurmFiles(layout).JobsScript);

        slurm.Queued["101_2"] = new SlurmQueueEntry("RUNNING", "None");
        foreach (bool dryRun in new[] { false, true })
        {
            var e = Assert.Throws<SparseCircuitsException>(() => SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec, dryRun: dryRun), slurm));
            Assert.Contains("has Slurm jobs queued or running (101_2)", e.Message);
        }
        Assert.Equal(3, slurm.Submitted.Count);
        Assert.Equal(jobsScript, File.ReadAllText(new SlurmFiles(layout).JobsScript)); // the queued jobs' files stay as they were

        // Once the queue is empty, the sweep can be submitted again (the data was never prepared: every job).
        slurm.Queued.Clear();
        var again = SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), slurm);
        Assert.Equal(["sparse", "dense", "sparse-2"], again.ArrayJobs);
        Assert.Equal(2, SweepManifest.TryLoad(layout)!.Submissions!.Count);
    }

    [Fact]
    public void Unknown_partition_missing_sbatch_unwritable_directory_and_rejected_jobs_are_clear_errors()
    {
        using var dir = new TempDir();
        SweepSpec spec = SlurmTestSweep.Spec(dir);
        var layout = new SweepLayout(dir["sweep"]);
        var files = new SlurmFiles(layout);

        var slurm = new FakeSlurm();
        var e = Assert.Throws<SparseCircuitsException>(() => SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec, new SlurmOptions { Partition = "debug,gpu" }), slurm));
        Assert.Equal("unknown partition 'gpu': the cluster has debug, long", e.Message);
        Assert.False(Directory.Exists(files.Root));

        // The real client on a machine without Slurm: one line saying what is missing; --dry-run needs no Slurm.
        var noSlurm = new SlurmCommands(searchPath: dir["no-bin"]);
        e = Assert.Throws<SlurmUnavailableException>(() => SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), noSlurm));
        Assert.StartsWith("sbatch not found on PATH", e.Message);
        Assert.Contains("--dry-run", e.Message);
        Assert.False(Directory.Exists(files.Root));
        SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec, dryRun: true), noSlurm);
        Assert.True(File.Exists(files.JobsScript));

        e = Assert.Throws<SparseCircuitsException>(() => SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec) with { OutDir = "/proc/sweep" }, slurm));
        Assert.Contains("/proc/sweep cannot be written", e.Message);

        // sbatch rejects the array: the data job already queued is cancelled, nothing is recorded.
        slurm.FailSubmission = 1;
        e = Assert.Throws<SlurmUnavailableException>(() => SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), slurm));
        Assert.Contains("Invalid account", e.Message);
        Assert.Equal(["100"], slurm.Cancelled);
        Assert.Empty(slurm.Released);
        Assert.False(File.Exists(layout.ManifestFile));
    }

    [Fact]
    public void The_data_job_prepares_the_data_stores_the_spec_and_keeps_the_recorded_submissions()
    {
        using var dir = new TempDir();
        SweepSpec spec = SlurmTestSweep.Spec(dir);
        var layout = new SweepLayout(dir["sweep"]);
        var slurm = new FakeSlurm();
        SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), slurm);

        // What data.sbatch runs: `circuits sweep --spec DIR/slurm/spec.json --out DIR --prepare-only`.
        var prepared = SweepRunner.Run(new SweepOptions { OutDir = layout.Root, Spec = SweepSpec.Load(new SlurmFiles(layout).Spec), PrepareOnly = true },
            NullProgress.Instance);
        Assert.Empty(prepared.Jobs);
        Assert.All(prepared.Data, stage => Assert.False(stage.Skipped));
        Assert.False(Directory.Exists(layout.Jobs));
        Assert.Equal(File.ReadAllText(new SlurmFiles(layout).Spec), File.ReadAllText(layout.SpecFile));
        var manifest = SweepManifest.TryLoad(layout)!;
        Assert.NotNull(manifest.TokenizerHash);
        Assert.Single(manifest.Sessions);
        Assert.Equal("100", Assert.Single(manifest.Submissions!).DataJobId);

        // With the data there, finished jobs are known: a rerun submits the others, or nothing.
        Assert.Equal(["sparse", "dense"], SweepRunner.JobsToRun(layout.Root, spec));
        SlurmTestSweep.Finish(layout, "sparse");
        var rerun = SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), slurm);
        Assert.Equal(["dense"], rerun.ArrayJobs);
        Assert.Equal("1", slurm.Submitted[4].Option("--array"));
        SlurmTestSweep.Finish(layout, "dense");
        var nothing = SlurmSweep.Submit(SlurmTestSweep.Request(dir, spec), slurm);
        Assert.Contains("every job", nothing.Nothing);
        Assert.Equal(6, slurm.Submitted.Count);

        var e = Assert.Throws<SparseCircuitsException>(() => SweepRunner.Run(new SweepOptions { OutDir = layout.Root, PrepareOnly = true, OnlyJobs = ["dense"] },
            NullProgress.Instance));
        Assert.Contains("--prepare-only runs no job", e.Message);
    }
}

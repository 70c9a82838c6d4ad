using SparseCircuits.Core;
using SparseCircuits.Slurm;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Slurm;

/// <summary>`circuits sweep status` and `--resubmit-failed`: the directory's state joined with the queue, and what is submitted again.</summary>
public sealed class SlurmStatusTests
{
    /// <summary>
    /// A 4-job sweep submitted once (data 100, array 101, frontier 102) with its data prepared:
    /// sparse finished, dense started, sparse-2 and dense-2 not started.
    /// </summary>
    static (SweepLayout Layout, FakeSlurm Slurm) Submitted(TempDir dir)
    {
        var slurm = new FakeSlurm();
        SlurmSweep.Submit(SlurmTestSweep.Request(dir, SlurmTestSweep.Spec(dir, models: 4)), slurm);
        var layout = new SweepLayout(dir["sweep"]);
        SlurmTestSweep.PrepareData(layout);
        SlurmTestSweep.Finish(layout, "sparse");
        SlurmTestSweep.Start(layout, "dense");
        slurm.Calls.Clear();
        return (layout, slurm);
    }

    static SlurmJobStatus Row(SlurmSweepStatus status, string name) => status.All.Single(r => r.Name == name);

    [Fact]
    public void Status_joins_the_sweep_directory_with_the_queue_and_says_when_accounting_is_missing()
    {
        using var dir = new TempDir();
        var (layout, slurm) = Submitted(dir);
        slurm.Queued["101_1"] = new("RUNNING", "None");
        slurm.Queued["101_2"] = new("PENDING", "Resources");
        slurm.Queued["102"] = new("PENDING", "Dependency");
        string log = dir.Write("sweep/slurm/logs/job-101_3.out", "error: out of memory\n");

        var status = SlurmSweepStatus.Read(layout.Root, slurm);
        Assert.Equal(
        [
            ("data", "prepared", SweepJobPhase.Finished, "100", null),
            ("sparse", "finished", SweepJobPhase.Finished, "101_0", null),
            ("dense", "started", SweepJobPhase.Running, "101_1", "RUNNING"),
            ("sparse-2", "not started", SweepJobPhase.Queued, "101_2", "PENDING (Resources)"),
            ("dense-2", "not started", SweepJobPhase.Failed, "101_3", "not in the queue"),
            ("frontier", "not written", SweepJobPhase.Queued, "102", "PENDING (Dependency)"),
        ], status.All.Select(r => (r.Name, r.Files, r.Phase, r.SlurmId, r.SlurmState)));
        Assert.Equal(log, Row(status, "dense-2").Log);
        Assert.Contains("sacct: Slurm accounting storage is disabled: jobs that left the queue count as finished when their output is there, else as failed",
            status.Notes);
        Assert.DoesNotContain(slurm.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal) || c.StartsWith("scancel", StringComparison.Ordinal));

        // With accounting, the state of jobs that left the queue comes from Slurm's records.
        slurm.Records = new() { ["100"] = "COMPLETED", ["101_0"] = "COMPLETED", ["101_3"] = "OUT_OF_MEMORY" };
        status = SlurmSweepStatus.Read(layout.Root, slurm);
        Assert.Equal((SweepJobPhase.Failed, "OUT_OF_MEMORY"), (Row(status, "dense-2").Phase, Row(status, "dense-2").SlurmState));
        Assert.Equal("COMPLETED", Row(status, "sparse").SlurmState);
        Assert.Empty(status.Notes);

        // Without squeue only the directory speaks: unfinished jobs are unknown, not failed.
        slurm.Missing = "squeue";
        status = SlurmSweepStatus.Read(layout.Root, slurm);
        Assert.Equal([SweepJobPhase.Finished, SweepJobPhase.Finished, SweepJobPhase.Unknown, SweepJobPhase.Unknown, SweepJobPhase.Unknown, SweepJobPhase.Unknown],
            status.All.Select(r => r.Phase));
        Assert.Contains(status.Notes, n => n.StartsWith("squeue not found on PATH", StringComparison.Ordinal));
    }

    [Fact]
    public void Status_of_a_sweep_never_submitted_reads_the_directory_alone()
    {
        using var dir = new TempDir();
        var layout = new SweepLayout(dir["sweep"]);
        AtomicFile.WriteAllText(layout.SpecFile, SlurmTestSweep.Spec(dir).ToJson());
        SlurmTestSweep.Finish(layout, "dense");
        var slurm = new FakeSlurm();
        var status = SlurmSweepStatus.Read(layout.Root, slurm);
        Assert.Equal([("data", SweepJobPhase.NotSubmitted), ("sparse", SweepJobPhase.NotSubmitted), ("dense", SweepJobPhase.Finished), ("frontier", SweepJobPhase.NotSubmitted)],
            status.All.Select(r => (r.Name, r.Phase)));
        Assert.Empty(slurm.Calls);
        Assert.Contains("no Slurm submission", Assert.Single(status.Notes));
        var e = Assert.Throws<SparseCircuitsException>(() => SlurmSweepStatus.Read(dir["missing"], slurm));
        Assert.Contains("sweep directory not found", e.Message);
        e = Assert.Throws<SparseCircuitsException>(() => SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions(), false, "", slurm));
        Assert.Contains("was never submitted to Slurm", e.Message);
    }

    [Fact]
    public void Resubmission_runs_only_the_failed_jobs_and_a_new_frontier_after_them_and_the_jobs_still_running()
    {
        using var dir = new TempDir();
        var (layout, slurm) = Submitted(dir);
        slurm.Queued["101_1"] = new("RUNNING", "None");
        slurm.Queued["102"] = new("PENDING", "DependencyNeverSatisfied"); // sparse-2 and dense-2 failed

        var dry = SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions { Time = "04:00:00" }, dryRun: true, "", slurm);
        Assert.Equal(["sparse-2", "dense-2"], dry.ArrayJobs);
        Assert.Equal(["102"], dry.Cancelled);
        Assert.Empty(slurm.Calls);

        var result = SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions { Time = "04:00:00" }, dryRun: false, "circuits sweep --resubmit-failed", slurm);
        Assert.Equal(["scancel 102", "sbatch jobs.sbatch", "sbatch frontier.sbatch"], slurm.Calls); // the data is there: no data job
        var (jobs, frontier) = (slurm.Script("jobs.sbatch"), slurm.Script("frontier.sbatch"));
        Assert.Equal(("2-3", "04:00:00", null), (jobs.Option("--array"), jobs.Option("--time"), jobs.Option("--dependency")));
        Assert.Equal(("afterok:103:101_1", "04:00:00"), (frontier.Option("--dependency"), frontier.Option("--time")));
        Assert.Equal(dry.Commands, result.Commands);

        var submissions = SweepManifest.TryLoad(layout)!.Submissions!;
        Assert.Equal(2, submissions.Count);
        Assert.Equal((null, "103", "104"), (submissions[1].DataJobId, submissions[1].ArrayJobId, submissions[1].FrontierJobId));
        Assert.Equal([new SweepSubmittedJob("sparse-2", 2), new SweepSubmittedJob("dense-2", 3)], submissions[1].ArrayTasks);

        // The status follows each job to its latest task; with those queued there is nothing to resubmit.
        slurm.Queued.Remove("102");
        slurm.Queued["103_2"] = new("PENDING", "Priority");
        slurm.Queued["103_3"] = new("RUNNING", "None");
        slurm.Queued["104"] = new("PENDING", "Dependency");
        var status = SlurmSweepStatus.Read(layout.Root, slurm);
        Assert.Equal(["100", "101_0", "101_1", "103_2", "103_3", "104"], status.All.Select(r => r.SlurmId));
        slurm.Calls.Clear();
        var nothing = SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions(), dryRun: false, "", slurm);
        Assert.Equal("nothing to resubmit: 1 of 4 jobs finished, the others queued or running; frontier job queued (104)", nothing.Nothing);
        Assert.DoesNotContain(slurm.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal) || c.StartsWith("scancel", StringComparison.Ordinal));
    }

    [Fact]
    public void Resubmission_after_a_failed_data_job_cancels_the_stuck_jobs_and_starts_again_from_the_data()
    {
        using var dir = new TempDir();
        var slurm = new FakeSlurm();
        SlurmSweep.Submit(SlurmTestSweep.Request(dir, SlurmTestSweep.Spec(dir)), slurm);
        var layout = new SweepLayout(dir["sweep"]);
        slurm.Queued["101_0"] = new("PENDING", "DependencyNeverSatisfied");
        slurm.Queued["101_1"] = new("PENDING", "DependencyNeverSatisfied");
        slurm.Queued["102"] = new("PENDING", "DependencyNeverSatisfied");
        Assert.Equal([SweepJobPhase.Failed, SweepJobPhase.Stuck, SweepJobPhase.Stuck, SweepJobPhase.Stuck],
            SlurmSweepStatus.Read(layout.Root, slurm).All.Select(r => r.Phase));
        slurm.Calls.Clear();

        SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions(), dryRun: false, "", slurm);
        Assert.Equal(["scancel 101_0 101_1 102", "sbatch data.sbatch", "sbatch jobs.sbatch", "sbatch frontier.sbatch", "scontrol release 103"], slurm.Calls);
        Assert.True(slurm.Script("data.sbatch").Held);
        Assert.Equal(("0-1", "afterok:103"), (slurm.Script("jobs.sbatch").Option("--array"), slurm.Script("jobs.sbatch").Option("--dependency")));
        Assert.Equal("afterok:104", slurm.Script("frontier.sbatch").Option("--dependency"));
    }

    [Fact]
    public void A_frontier_job_that_failed_after_every_job_finished_is_resubmitted_alone()
    {
        using var dir = new TempDir();
        var (layout, slurm) = Submitted(dir);
        foreach (string job in new[] { "dense", "sparse-2", "dense-2" }) SlurmTestSweep.Finish(layout, job);
        SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions { CpusPerJob = 8 }, dryRun: false, "", slurm);
        Assert.Equal(["sbatch frontier.sbatch"], slurm.Calls);
        Assert.Null(slurm.Script("frontier.sbatch").Option("--dependency"));
        Assert.Null(slurm.Script("frontier.sbatch").Option("--cpus-per-task")); // the frontier needs one CPU whatever the jobs get

        // Once the frontier is written, a sweep is done: nothing to resubmit.
        AtomicFile.WriteAllText(Path.Combine(layout.Root, "frontier", "table.json"), "{}");
        slurm.Calls.Clear();
        Assert.NotNull(SlurmSweep.ResubmitFailed(layout.Root, new SlurmOptions(), dryRun: false, "", slurm).Nothing);
        Assert.DoesNotContain(slurm.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal));
    }
}

using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Slurm;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Slurm;

/// <summary>The sbatch scripts `circuits sweep --scheduler slurm --dry-run` writes: their directives and the commands they run.</summary>
public sealed class SlurmScriptsTests
{
    static string[] Lines(string script) => File.ReadAllText(script).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    static void HasLines(string[] script, params string[] expected)
    {
        foreach (string line in expected) Assert.Contains(line, script);
    }

    [Fact]
    public void Dry_run_writes_the_three_scripts_with_the_resources_and_commands_of_every_job()
    {
        using var dir = new TempDir();
        SweepSpec spec = SlurmTestSweep.Spec(dir, models: 3);
        var slurm = new FakeSlurm();
        var options = new SlurmOptions { Partition = "debug", Time = "1-02:00:00", CpusPerJob = 3, Mem = "8G", Account = "lab" };
        var request = SlurmTestSweep.Request(dir, spec, options, dryRun: true) with { Circuits = ["/opt/dotnet/dotnet", "/opt/sc/circuits.dll"] };
        var result = SlurmSweep.Submit(request, slurm);

        Assert.Empty(slurm.Calls); // a dry run asks Slurm nothing
        var layout = new SweepLayout(dir["sweep"]);
        var files = new SlurmFiles(layout);
        Assert.Equal([files.DataScript, files.JobsScript, files.FrontierScript], result.Scripts);
        Assert.Equal(["sparse", "dense", "sparse-2"], result.ArrayJobs);
        Assert.Equal(spec.ToJson() + "\n", File.ReadAllText(files.Spec));
        Assert.False(File.Exists(layout.SpecFile)); // stored by the data job when it runs
        Assert.False(File.Exists(layout.ManifestFile));
        Assert.True(Directory.Exists(files.Logs));

        string root = layout.Root;
        string[] resources = ["#SBATCH --partition=debug", "#SBATCH --account=lab", "#SBATCH --time=1-02:00:00", "#SBATCH --mem=8G", $"#SBATCH --chdir={root}"];
        string circuits = "circuits=('/opt/dotnet/dotnet' '/opt/sc/circuits.dll')";
        string sweepArgs = $"sweep --spec '{files.Spec}' --out '{root}'";

        string[] data = Lines(files.DataScript);
        Assert.Equal("#!/bin/bash", data[0]);
        HasLines(data, [.. resources, "#SBATCH --cpus-per-task=3", "#SBATCH --job-name=sweep-sweep-data",
            $"#SBATCH --output={root}/slurm/logs/data-%j.out", circuits]);
        Assert.Equal($"exec \"${{circuits[@]}}\" {sweepArgs} --prepare-only --threads \"${{SLURM_CPUS_PER_TASK:-3}}\" --quiet", data[^1]);

        string[] jobs = Lines(files.JobsScript);
        HasLines(jobs, [.. resources, "#SBATCH --cpus-per-task=3", "#SBATCH --array=0-2", "#SBATCH --job-name=sweep-sweep-jobs",
            $"#SBATCH --output={root}/slurm/logs/job-%A_%a.out", circuits, "jobs=('sparse' 'dense' 'sparse-2')"]);
        Assert.Equal($"exec \"${{circuits[@]}}\" {sweepArgs} --job \"${{jobs[$SLURM_ARRAY_TASK_ID]}}\" --threads \"${{SLURM_CPUS_PER_TASK:-3}}\" --quiet", jobs[^1]);

        string[] frontier = Lines(files.FrontierScript);
        HasLines(frontier, [.. resources, "#SBATCH --cpus-per-task=1", $"#SBATCH --output={root}/slurm/logs/frontier-%j.out", circuits]);
        Assert.DoesNotContain("#SBATCH --cpus-per-task=3", frontier);
        Assert.Equal($"exec \"${{circuits[@]}}\" frontier '{root}' --threads 1 --quiet", frontier[^1]);

        // sbatch reads directives only up to the first command, so every one must come before it.
        foreach (string[] script in new[] { data, jobs, frontier })
        {
            int firstCommand = Array.FindIndex(script, l => !l.StartsWith('#'));
            Assert.True(Array.FindLastIndex(script, l => l.StartsWith("#SBATCH", StringComparison.Ordinal)) < firstCommand);
        }

        Assert.Equal(
            $"""
            data=$(sbatch --parsable --hold {files.DataScript})
            jobs=$(sbatch --parsable --array=0-2 --dependency=afterok:$data {files.JobsScript})
            frontier=$(sbatch --parsable --dependency=afterok:$jobs {files.FrontierScript})
            scontrol release $data

            """, result.Commands);
    }

    [Fact]
    public void Each_script_runs_the_circuits_command_it_records_with_its_task_and_cpus()
    {
        using var dir = new TempDir();
        // A stand-in for circuits at a path that needs quoting, printing the arguments it gets.
        string stub = dir.Write("bin/it's circuits", "printf '%s\\n' \"$@\" > \"$ARGS_FILE\"\n");
        var request = SlurmTestSweep.Request(dir, SlurmTestSweep.Spec(dir, models: 3), dryRun: true) with { Circuits = ["bash", stub] };
        SlurmSweep.Submit(request, new FakeSlurm());
        var files = new SlurmFiles(new SweepLayout(dir["sweep"]));

        string[] Run(string script, params (string Name, string Value)[] environment)
        {
            var info = new ProcessStartInfo("bash", [script]) { UseShellExecute = false, RedirectStandardError = true };
            info.Environment["ARGS_FILE"] = dir["args.txt"];
            foreach (var (name, value) in environment) info.Environment[name] = value;
            using var process = Process.Start(info)!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, error);
            return File.ReadAllLines(dir["args.txt"]);
        }

        string[] sweep = ["sweep", "--spec", files.Spec, "--out", files.Sweep.Root];
        Assert.Equal([.. sweep, "--job", "dense", "--threads", "5", "--quiet"], Run(files.JobsScript, ("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_CPUS_PER_TASK", "5")));
        Assert.Equal([.. sweep, "--job", "sparse-2", "--threads", "4", "--quiet"], Run(files.JobsScript, ("SLURM_ARRAY_TASK_ID", "2")));
        Assert.Equal([.. sweep, "--prepare-only", "--threads", "4", "--quiet"], Run(files.DataScript));
        Assert.Equal(["frontier", files.Sweep.Root, "--threads", "1", "--quiet"], Run(files.FrontierScript));
    }

    [Fact]
    public void Options_and_directories_that_sbatch_cannot_take_are_refused_before_anything_is_written()
    {
        using var dir = new TempDir();
        SweepSpec spec = SlurmTestSweep.Spec(dir);
        void Refused(SlurmSubmitRequest request, string expected)
        {
            var e = Assert.Throws<SparseCircuitsException>(() => SlurmSweep.Submit(request, new FakeSlurm()));
            Assert.Contains(expected, e.Message);
            Assert.False(Directory.Exists(Path.Combine(request.OutDir, "slurm")), expected);
        }
        Refused(SlurmTestSweep.Request(dir, spec, new SlurmOptions { Time = "2h" }, dryRun: true), "--time must be a Slurm time limit");
        Refused(SlurmTestSweep.Request(dir, spec, new SlurmOptions { Mem = "8GB" }, dryRun: true), "--mem must be a whole number");
        Refused(SlurmTestSweep.Request(dir, spec, new SlurmOptions { Partition = "debug long" }, dryRun: true), "--partition must be");
        Refused(SlurmTestSweep.Request(dir, spec, new SlurmOptions { Account = "lab\n#SBATCH --x" }, dryRun: true), "--account must be");
        Refused(SlurmTestSweep.Request(dir, spec, new SlurmOptions { CpusPerJob = 0 }, dryRun: true), "--cpus-per-job must be >= 1");
        Refused(SlurmTestSweep.Request(dir, spec, dryRun: true) with { OutDir = dir["my sweep"] }, "without spaces");
        Refused(SlurmTestSweep.Request(dir, spec, dryRun: true) with { OutDir = dir["50%"] }, "without spaces, quotes, backslashes or %");
        Assert.Equal("1-2", SlurmSweep.ArrayIndices([new("a", 1), new("b", 2)]));
        Assert.Equal("0,2-4,7", SlurmSweep.ArrayIndices([new("a", 7), new("b", 2), new("c", 3), new("d", 0), new("e", 4)]));
    }
}

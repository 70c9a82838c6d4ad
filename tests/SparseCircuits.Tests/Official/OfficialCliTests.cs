using System.IO.Compression;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Reports;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;

namespace SparseCircuits.Tests.Official;

/// <summary>`circuits import official` / `export official` through the real executable, and every analysis on an imported model.</summary>
public sealed class OfficialCliTests
{
    [Fact]
    public void Import_and_export_print_what_they_did_and_refuse_bad_input_with_one_line()
    {
        using var dir = new TempDir();
        var import = CliRunner.Run("import", "official", ReleaseFixtures.TinyModel, "--out", dir["run"], "--tokenizer", ReleaseFixtures.Tokenizer, "--quiet");
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.Contains("imported 4,560,328 parameters (2 layers, d_model 64, 4 heads of 16", import.Stdout);
        Assert.Contains("n_embd=64", import.Stdout);

        var export = CliRunner.Run("export", "official", dir["run"], "--out", dir["export"], "--quiet");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Contains("exported final_model.pt", export.Stdout);
        Assert.True(File.Exists(dir["export/beeg_config.json"]));

        // A pickle that would run a shell command: refused, nothing written.
        dir.Write("evil/beeg_config.json", File.ReadAllText(Path.Combine(ReleaseFixtures.TinyModel, "beeg_config.json")));
        using (var zip = ZipFile.Open(dir["evil/final_model.pt"], ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl").Open())
                s.Write([0x80, 2, .. "cposix\nsystem\n"u8, (byte)'X', 5, 0, 0, 0, .. "touch"u8, 0x85, (byte)'R', (byte)'.']);
            using (var s = zip.CreateEntry("archive/version").Open()) s.Write("3\n"u8);
        }
        CliRunner.AssertCleanError(CliRunner.Run("import", "official", dir["evil"], "--out", dir["evil-run"], "--tokenizer", ReleaseFixtures.Tokenizer),
            "refers to posix.system");
        Assert.False(Directory.Exists(dir["evil-run"]));

        CliRunner.AssertCleanError(CliRunner.Run("import", "official", dir["nowhere"], "--out", dir["x"]), "not found");
        CliRunner.AssertCleanError(CliRunner.Run("import", "official", ReleaseFixtures.TinyModel), "--out is required");
        CliRunner.AssertCleanError(CliRunner.Run("export", "official", dir["nowhere"], "--out", dir["y"]), "not found");
        Assert.False(Directory.Exists(dir["y"]));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Every_analysis_runs_on_an_imported_release_model()
    {
        using var dir = new TempDir();
        string run = dir["run"];
        var import = CliRunner.Run("import", "official", ReleaseFixtures.TinyModel, "--out", run, "--tokenizer", ReleaseFixtures.Tokenizer, "--quiet");
        Assert.True(import.ExitCode == 0, import.Stderr);

        // Pretraining-like text in the release's tokenization: generated simple Python.
        CorpusBuilder.Build(new CorpusOptions { SyntheticBytes = 400_000, SyntheticOnly = true, TrainFraction = 0.8, ValFraction = 0.1 },
            dir["corpus"], NullProgress.Instance);
        var tokenize = CliRunner.Run("corpus", "tokenize", "--corpus", dir["corpus"], "--tokenizer", Path.Combine(run, "tokenizer"), "--out", dir["shards"], "--quiet");
        Assert.True(tokenize.ExitCode == 0, tokenize.Stderr);

        var means = CliRunner.Run("means", "--model", run, "--data", dir["shards"], "--tokens", "2048", "--quiet");
        Assert.True(means.ExitCode == 0, means.Stderr);
        Assert.True(MeanCache.Exists(run));

        var eval = CliRunner.Run("tasks", "eval", "--model", run, "--task", "single_double_quote", "-n", "16", "--quiet");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Contains("single_double_quote", eval.Stdout);

        string circuits = dir["circuits"];
        var prune = CliRunner.Run("prune", "--model", run, "--task", "single_double_quote", "--target-loss", "5", "--steps", "3", "--runs", "2",
            "--out", Path.Combine(circuits, "single_double_quote"), "--quiet");
        Assert.True(prune.ExitCode == 0, prune.Stderr);
        Circuit circuit = CircuitFile.Load(Path.Combine(circuits, "single_double_quote"));
        Assert.Equal("single_double_quote", circuit.Task.Name);

        var report = CliRunner.Run("report", "--model", run, "--data", dir["shards"], "--circuits", circuits, "--out", dir["report.html"],
            "--profile-tokens", "512", "--quiet");
        Assert.True(report.ExitCode == 0, report.Stderr);
        Assert.Contains("1 circuits", report.Stdout);
        Assert.Contains("single_double_quote", File.ReadAllText(dir["report.html"]));

        // serve: the same report data behind the HTTP server, as `circuits serve` builds it.
        ReportData data = ReportBuilder.Build(new ReportOptions { ModelDir = run, CircuitsDir = circuits, ShardsDir = dir["shards"], ProfileTokens = 512 },
            NullProgress.Instance);
        using var stop = new CancellationTokenSource();
        using var server = ReportServer.ForReport(data, port: 0);
        Task serving = server.RunAsync(stop.Token);
        Assert.StartsWith("HTTP/1.1 200", RawHttp.StatusLine(await RawHttp.Send(server.Port, RawHttp.Get("/", server.Port))));
        await stop.CancelAsync();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

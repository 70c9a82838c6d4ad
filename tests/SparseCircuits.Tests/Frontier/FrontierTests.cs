using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Frontier;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Frontier;

/// <summary>The frontier math and files from hand-made job results (no training).</summary>
public sealed class FrontierTests
{
    static SweepJobResult Job(string name, bool dense, int width, double density, double valLoss, params (string Task, int? Edges)[] tasks) => new()
    {
        Name = name, Fingerprint = "x", Dense = dense, NLayer = 2, DModel = width, Parameters = 1000 * width, Nonzeros = (long)(1000 * width * density),
        WeightDensity = density, Step = 10, ValLoss = valLoss, TargetLoss = 0.3, Seconds = 1, FinishedAt = "2025-01-01T00:00:00Z",
        Tasks = tasks.Select(t => new SweepTaskResult(t.Task, t.Edges is not null, t.Edges is null ? null : 2 * t.Edges, t.Edges,
            t.Edges is null ? "cannot reach the target" : null,
            t.Edges is int e ? [new PrefixEdgePoint(0, 0, 0, 0.69), new PrefixEdgePoint(1, 2, e / 2, 0.45), new PrefixEdgePoint(2, 4, e, 0.3)] : [])).ToList(),
    };

    static readonly string[] Tasks = ["t1", "t2", "t3"];

    static FrontierTable Table(params SweepJobResult[] extra) => FrontierTable.Build(0.3, Tasks,
    [
        Job("sparse-a", false, 64, 0.2, 4.5, ("t1", 10), ("t2", 40), ("t3", null)),
        Job("sparse-b", false, 128, 0.05, 4.2, ("t1", 20), ("t2", 80), ("t3", 7)),
        Job("dense-s", true, 32, 1, 4.8, ("t1", 100), ("t2", 400), ("t3", 9)),
        Job("dense-l", true, 128, 1, 4.0, ("t1", 1000), ("t2", 1000), ("t3", 5)),
        .. extra,
    ]);

    [Fact]
    public void Geometric_mean_is_over_the_tasks_every_model_solves()
    {
        FrontierTable table = Table();
        Assert.Equal(["t1", "t2"], table.CommonTasks);
        var g = table.Rows.ToDictionary(r => r.Name, r => r.GeometricMeanEdges);
        Assert.Equal(20, g["sparse-a"]!.Value, 9);   // sqrt(10 * 40)
        Assert.Equal(40, g["sparse-b"]!.Value, 9);   // sqrt(20 * 80)
        Assert.Equal(200, g["dense-s"]!.Value, 9);   // sqrt(100 * 400)
        Assert.Equal(1000, g["dense-l"]!.Value, 9);
        Assert.Equal(["t3"], table.Rows[0].Unsolved);
        Assert.Equal(6, GeometricMean.Of([2, 18])!.Value, 12);
        Assert.Equal(0, GeometricMean.Of([0, 5]));
        Assert.Null(GeometricMean.Of([]));
    }

    [Fact]
    public void Dense_edges_are_interpolated_in_log_scale_at_the_sparse_loss_and_the_ratio_follows()
    {
        var comparison = MatchedLossComparison.Compute(Table());
        var a = comparison.Pairs.Single(p => p.Sparse == "sparse-a");
        var b = comparison.Pairs.Single(p => p.Sparse == "sparse-b");
        // Dense curve (4.0, 1000) .. (4.8, 200): at 4.5 a fraction 0.625 of the way, log-linear.
        double denseA = 1000 * Math.Pow(200.0 / 1000, 0.625), denseB = 1000 * Math.Pow(200.0 / 1000, 0.25);
        Assert.Equal(denseA, a.DenseEdgesAtLoss!.Value, 9);
        Assert.Equal(denseA / 20, a.Ratio!.Value, 9);
        Assert.Equal(denseB / 40, b.Ratio!.Value, 9);
        Assert.Equal(Math.Sqrt(denseA / 20 * (denseB / 40)), comparison.Ratio!.Value, 9);
        Assert.Equal(["t1", "t2"], comparison.Tasks);
        Assert.Contains("t1, t2", comparison.Summary);
    }

    [Fact]
    public void Interpolation_hits_dense_points_exactly_and_refuses_to_extrapolate()
    {
        (double, double)[] dense = [(4.0, 1000), (4.8, 200)];
        Assert.Equal(200, MatchedLossComparison.InterpolateDense(dense, 4.8, out _)!.Value, 9);
        Assert.Equal(Math.Sqrt(1000 * 200.0), MatchedLossComparison.InterpolateDense(dense, 4.4, out _)!.Value, 9);
        Assert.Null(MatchedLossComparison.InterpolateDense(dense, 3.9, out string? below));
        Assert.Contains("outside the dense models' range [4.0000, 4.8000]", below);
        Assert.Null(MatchedLossComparison.InterpolateDense(dense, 4.9, out _));
        Assert.Null(MatchedLossComparison.InterpolateDense([(4.0, 10)], 4.1, out string? single));
        Assert.Contains("only dense model", single);

        var comparison = MatchedLossComparison.Compute(Table(Job("sparse-c", false, 64, 0.4, 3.9, ("t1", 5), ("t2", 5), ("t3", 5))));
        var c = comparison.Pairs.Single(p => p.Sparse == "sparse-c");
        Assert.Null(c.Ratio);
        Assert.Contains("no extrapolation", c.Note);
        Assert.Equal(2, comparison.Pairs.Count(p => p.Ratio is not null)); // the other two still count
    }

    [Fact]
    public void No_common_task_gives_no_numbers_and_says_so()
    {
        var table = FrontierTable.Build(0.3, Tasks,
        [
            Job("sparse-a", false, 64, 0.2, 4.5, ("t1", 10), ("t2", null), ("t3", null)),
            Job("dense-s", true, 32, 1, 4.8, ("t1", null), ("t2", 400), ("t3", null)),
        ]);
        Assert.Empty(table.CommonTasks);
        Assert.All(table.Rows, r => Assert.Null(r.GeometricMeanEdges));
        var comparison = MatchedLossComparison.Compute(table);
        Assert.Null(comparison.Ratio);
        Assert.Contains("No non-trivial task reaches the target loss 0.3 on every model", comparison.Summary);
        Assert.Empty(EdgesVsTarget.Compute(table).Series);
        var plot = FrontierPlots.Frontier(table);
        Assert.Contains("nothing to compare", plot.Svg);
        Assert.Throws<SparseCircuitsException>(() => FrontierTable.Build(0.3, Tasks, []));
    }

    [Fact]
    public void A_task_some_model_reaches_with_an_empty_circuit_is_trivial_and_left_out_of_every_mean()
    {
        var table = FrontierTable.Build(0.3, Tasks,
        [
            Job("sparse-a", false, 64, 0.2, 4.5, ("t1", 10), ("t2", 40), ("t3", 0)),
            Job("dense-s", true, 32, 1, 4.8, ("t1", 100), ("t2", 400), ("t3", 50)),
            Job("dense-l", true, 128, 1, 4.0, ("t1", 1000), ("t2", 1000), ("t3", 60)),
        ]);
        Assert.Equal(["t3"], table.TrivialTasks);
        Assert.Equal(["t1", "t2"], table.CommonTasks);
        Assert.Equal(20, table.Rows[0].GeometricMeanEdges!.Value, 9); // not 0 from t3's empty circuit
        var comparison = MatchedLossComparison.Compute(table);
        Assert.DoesNotContain(comparison.PerTask, p => p.Task == "t3");
        Assert.Contains("trivial (reached with an empty circuit on some model): t3", comparison.Summary);
        Assert.Contains("\"trivial_tasks\"", Json.Serialize(FrontierFiles.Json(table)));
    }

    [Fact]
    public void Per_task_ratios_match_each_sparse_model_against_the_dense_models_that_solve_that_task()
    {
        var comparison = MatchedLossComparison.Compute(Table());
        double Expected(double denseAt48, double denseAt40, double loss, double edges) =>
            denseAt40 * Math.Pow(denseAt48 / denseAt40, (loss - 4.0) / 0.8) / edges;
        var r = comparison.PerTask.ToDictionary(p => (p.Task, p.Sparse));
        Assert.Equal(6, r.Count);
        Assert.Equal(Expected(100, 1000, 4.5, 10), r[("t1", "sparse-a")].Ratio!.Value, 9);
        Assert.Equal(Expected(400, 1000, 4.2, 80), r[("t2", "sparse-b")].Ratio!.Value, 9);
        Assert.Equal(Expected(9, 5, 4.2, 7), r[("t3", "sparse-b")].Ratio!.Value, 9); // t3 is not common, but has a per-task ratio
        Assert.Null(r[("t3", "sparse-a")].Ratio);
        Assert.Contains("does not reach the target", r[("t3", "sparse-a")].Note);
        double all = Math.Exp(r.Values.Where(p => p.Ratio is not null).Average(p => Math.Log(p.Ratio!.Value)));
        Assert.Equal(all, comparison.PerTaskRatio!.Value, 9);
        Assert.Contains("5 of 6 task-model pairs", comparison.Summary);

        // Over the common tasks alone, with the same dense models on each, the per-task mean equals the headline ratio.
        var common = MatchedLossComparison.Compute(FrontierTable.Build(0.3, ["t1", "t2"], Table().Rows.Select(row =>
            Job(row.Name, row.Dense, row.Width, row.WeightDensity, row.ValLoss, ("t1", (int?)row.Edges["t1"]), ("t2", (int?)row.Edges["t2"]))).ToList()));
        Assert.Equal(common.Ratio!.Value, common.PerTaskRatio!.Value, 9);
    }

    [Fact]
    public void Repeats_are_averaged_geometrically_and_each_repeat_gives_its_own_ratio()
    {
        SweepJobResult Repeated(string name, bool dense, double loss, int[] t1, int[] t2) => Job(name, dense, 64, dense ? 1 : 0.1, loss, ("t1", t1[0]), ("t2", t2[0])) with
        {
            Tasks = [
                new SweepTaskResult("t1", true, 1, t1[0], null, [], t1),
                new SweepTaskResult("t2", true, 1, t2[0], null, [], t2),
            ],
        };
        SweepJobResult[] jobs =
        [
            Repeated("sparse", false, 4.4, [10, 40], [20, 20]),
            Repeated("dense-s", true, 4.8, [100, 100], [400, 100]),
            Repeated("dense-l", true, 4.0, [1000, 1000], [1000, 1000]),
        ];
        var table = FrontierTable.Build(0.3, ["t1", "t2"], jobs);
        Assert.Equal(2, table.Repeats);
        Assert.Equal(20, table.Rows[0].Edges["t1"]!.Value, 9);       // sqrt(10 * 40)
        Assert.Equal(200, table.Rows[1].Edges["t2"]!.Value, 9);      // sqrt(400 * 100)
        Assert.Equal(20, table.Rows[0].GeometricMeanEdges!.Value, 9);
        // sparse: repeat 0 gives sqrt(10 * 20), repeat 1 sqrt(40 * 20).
        Assert.Equal(Math.Sqrt(200), table.Rows[0].RepeatRange!.Min, 9);
        Assert.Equal(Math.Sqrt(800), table.Rows[0].RepeatRange!.Max, 9);
        Assert.Contains("range over the 2 pruning repeats", FrontierPlots.Frontier(table).Caption);
        var second = FrontierTable.Build(0.3, ["t1", "t2"], jobs, repeat: 1);
        Assert.Null(second.Rows[0].RepeatRange);
        Assert.Equal(40, second.Rows[0].Edges["t1"]);

        var comparison = MatchedLossComparison.Compute(table, [FrontierTable.Build(0.3, ["t1", "t2"], jobs, repeat: 0), second]);
        // Dense curve at 4.4 is halfway in log between the dense models' geometric means.
        double Expected(double small, double large, double sparse) => Math.Sqrt(small * large) / sparse;
        Assert.Equal(Expected(Math.Sqrt(100 * 400), 1000, Math.Sqrt(10 * 20)), comparison.Repeats[0].Ratio!.Value, 9);
        Assert.Equal(Expected(100, 1000, Math.Sqrt(40 * 20)), comparison.Repeats[1].Ratio!.Value, 9);
        Assert.Equal(Expected(Math.Sqrt(100 * 200), 1000, 20), comparison.Ratio!.Value, 9); // dense-s: t1 100, t2 sqrt(400 * 100)
        Assert.Contains("Each of the 2 pruning repeats alone: ratio", comparison.Summary);

        var notPruned = new SweepTaskResult("t1", false, null, null, "cannot reach the target", [], null);
        Assert.Null(notPruned.EdgesOf());
        Assert.Equal(7, new SweepTaskResult("t1", true, 3, 7, null, []).EdgesOf(0));
        Assert.Null(new SweepTaskResult("t1", true, 3, 7, null, []).EdgesOf(1));
    }

    [Fact]
    public void Csv_is_exact_for_a_known_table()
    {
        var table = FrontierTable.Build(0.3, ["t1", "t2"],
        [
            Job("sparse-a", false, 64, 0.2, 4.5, ("t1", 10), ("t2", 40)),
            Job("dense,x", true, 32, 1, 4.81234, ("t1", 100), ("t2", null)),
        ]);
        Assert.Equal(
            "name,dense,n_layer,width,params,nonzeros,weight_density,val_loss,edges_t1,edges_t2,geomean_edges,unsolved\n" +
            "sparse-a,false,2,64,64000,12800,0.2,4.5000,10,40,10.00,\n" +
            "\"dense,x\",true,2,32,32000,32000,1,4.8123,100,,100.00,t2\n",
            FrontierFiles.Csv(table));
    }

    [Fact]
    public void Edges_vs_target_pairs_the_sparse_and_dense_model_of_closest_loss()
    {
        var data = EdgesVsTarget.Compute(Table());
        Assert.Equal(["sparse-b", "dense-l"], data.Series.Select(s => s.Model)); // |4.2 - 4.0| is the smallest gap
        var sparse = data.Series[0].Points;
        Assert.Equal(0.3, sparse[0].TargetLoss);
        Assert.Equal(40, sparse[0].Edges!.Value, 9);                   // the circuits at the target: sqrt(20 * 80)
        Assert.Equal(Math.Sqrt(10 * 40), sparse[^2].Edges!.Value, 9); // prefixes at loss 0.45 reach targets >= 0.45
        Assert.Equal(0, sparse[^1].Edges);                            // ln 2 > 0.69: the empty prefix passes
        Assert.Equal(Math.Round(Math.Log(2), 4), sparse[^1].TargetLoss);
    }

    /// <summary>A sweep directory holding only sweep.json and the given finished jobs.</summary>
    static string SweepDir(TempDir dir, string name, double target, IReadOnlyList<string> tasks, params SweepJobResult[] jobs)
    {
        var layout = new SweepLayout(dir[name]);
        AtomicFile.WriteAllText(layout.SpecFile, new SweepSpec { Tasks = tasks, TargetLoss = target, Models = [.. jobs.Select(j => new SweepModel { Name = j.Name })] }.ToJson());
        foreach (SweepJobResult job in jobs) AtomicFile.WriteJson(layout.JobResult(job.Name), job);
        return layout.Root;
    }

    [Fact]
    public void Sweeps_pruned_alike_pool_into_one_table_and_others_are_refused()
    {
        using var dir = new TempDir();
        string[] tasks = ["else_elif"];
        string seed0 = SweepDir(dir, "seed0", 0.3, tasks,
            Job("sparse", false, 64, 0.2, 4.4, ("else_elif", 10)), Job("dense-s", true, 32, 1, 4.8, ("else_elif", 100)));
        string seed1 = SweepDir(dir, "seed1", 0.3, tasks,
            Job("sparse-s1", false, 64, 0.2, 4.5, ("else_elif", 40)), Job("dense-l-s1", true, 128, 1, 4.0, ("else_elif", 1000)));
        FrontierResult pooled = SweepFrontier.Write([seed0, seed1], dir["pooled"]);
        Assert.Equal(["sparse", "dense-s", "sparse-s1", "dense-l-s1"], pooled.Table.Rows.Select(r => r.Name));
        // The dense curve now runs through both sweeps' dense models: (4.0, 1000) .. (4.8, 100).
        var sparse = pooled.Comparison.Pairs.Single(p => p.Sparse == "sparse");
        Assert.Equal(1000 * Math.Pow(0.1, 0.5) / 10, sparse.Ratio!.Value, 9);
        Assert.True(File.Exists(dir["pooled/table.csv"]));

        string otherTarget = SweepDir(dir, "other", 0.4, tasks, Job("x", true, 32, 1, 4.1, ("else_elif", 5)));
        Assert.Contains("other tasks or another target loss", Assert.Throws<SparseCircuitsException>(() => SweepFrontier.Compute([seed0, otherTarget])).Message);
        Assert.Contains("occurs in more than one pooled sweep", Assert.Throws<SparseCircuitsException>(() => SweepFrontier.Compute([seed0, seed0])).Message);
        Assert.Contains("give --out DIR when pooling", Assert.Throws<SparseCircuitsException>(() => SweepFrontier.Write([seed0, seed1])).Message);
    }

    [Fact]
    public void Plots_are_written_as_png_and_svg_with_their_series()
    {
        using var dir = new TempDir();
        var layout = new SweepLayout(dir.Path);
        var spec = new SweepSpec { Tasks = ["else_elif", "for_while", "with_as"], TargetLoss = 0.3,
            Models = [new SweepModel { Name = "sparse-a" }, new SweepModel { Name = "sparse-b" }, new SweepModel { Name = "dense-s" }, new SweepModel { Name = "dense-l" }, new SweepModel { Name = "later" }] };
        AtomicFile.WriteAllText(layout.SpecFile, spec.ToJson());
        string[] names = ["else_elif", "for_while", "with_as"];
        var table = Table();
        foreach (var row in table.Rows)
        {
            var job = Job(row.Name, row.Dense, row.Width, row.WeightDensity, row.ValLoss,
                Tasks.Select((t, i) => (names[i], (int?)row.Edges[t])).ToArray());
            AtomicFile.WriteJson(layout.JobResult(row.Name), job);
        }
        FrontierResult result = SweepFrontier.Write(dir.Path, dir["out"]);
        Assert.Equal(["later"], result.Table.MissingJobs);
        foreach (string name in new[] { "frontier", "edges_vs_target" })
        {
            byte[] png = File.ReadAllBytes(dir[$"out/{name}.png"]);
            Assert.True(png.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
        string frontier = File.ReadAllText(dir["out/frontier.svg"]);
        Assert.Contains("<svg", frontier);
        foreach (string label in new[] { "sparse, width 64", "sparse, width 128", "dense", "d=0.2", "w=32" }) Assert.Contains(label, frontier);
        string edges = File.ReadAllText(dir["out/edges_vs_target.svg"]);
        Assert.Contains("sparse-b", edges);
        Assert.Contains("dense-l", edges);
        Assert.StartsWith("name,dense,", File.ReadAllText(dir["out/table.csv"]));
        Assert.Contains("\"ratio\"", File.ReadAllText(dir["out/comparison.json"]));
        Assert.Contains("\"common_tasks\"", File.ReadAllText(dir["out/table.json"]));

        // One frontier per task that some model solves, on that task's edges alone.
        string perTask = File.ReadAllText(dir["out/frontier_with_as.svg"]);
        Assert.Contains("with_as", perTask);
        Assert.True(new FileInfo(dir["out/frontier_for_while.png"]).Length > 1000);
        Assert.Equal(["frontier", "edges_vs_target", "frontier_else_elif", "frontier_for_while", "frontier_with_as"], result.Plots.Select(p => p.Name));

        var page = SparseCircuits.Frontier.FrontierReportPage.From(result);
        Assert.Equal(5, page.Figures.Count);
        Assert.All(page.Figures, f => Assert.Contains("<svg", f.Svg));
        Assert.Equal(4, page.Rows.Count);
    }
}

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
        Assert.Contains("No task reaches the target loss 0.3 on every model", comparison.Summary);
        Assert.Empty(EdgesVsTarget.Compute(table).Series);
        var plot = FrontierPlots.Frontier(table);
        Assert.Contains("nothing to compare", plot.Svg);
        Assert.Throws<SparseCircuitsException>(() => FrontierTable.Build(0.3, Tasks, []));
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
                Tasks.Select((t, i) => (names[i], row.Edges[t])).ToArray());
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

        var page = SparseCircuits.Reports.FrontierReportPage.From(result);
        Assert.Equal(2, page.Figures.Count);
        Assert.All(page.Figures, f => Assert.Contains("<svg", f.Svg));
        Assert.Equal(4, page.Rows.Count);
    }
}

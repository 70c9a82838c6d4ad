using SparseCircuits.Bridges;
using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Bridges;

public sealed class BridgeSetTests
{
    const string Site = "0.resid_in";

    /// <summary>A one-layer set of width 2 both ways, identity maps, zero biases, no AbsTopK: what remains is the standardisation.</summary>
    static BridgeSet IdentityBridges()
    {
        var bridges = new BridgeSet(1, 2, 2, encoderTopK: null);
        using (no_grad())
            foreach (var (name, t) in bridges.Export())
            {
                if (name.EndsWith(".weight")) t.copy_(eye(2));
                else if (name.EndsWith(".bias")) t.zero_();
            }
        // dense residuals: mean (10, 0), deviations ±4 in every entry -> scale 4
        using Tensor dense = tensor(new float[] { 14, 4, 6, -4 }).view(2, 2);
        bridges.SetDenseStatistics(Site, dense);
        // sparse residuals: mean (0, 1), deviations ±0.5 -> scale 0.5
        using Tensor sparse = tensor(new float[] { 0.5f, 1.5f, -0.5f, 0.5f }).view(2, 2);
        bridges.TrackSparseStatistics(Site, sparse);
        return bridges;
    }

    [Fact]
    public void The_maps_standardise_one_residual_and_restore_the_other()
    {
        using var bridges = IdentityBridges();
        using Tensor sparse = tensor(new float[] { 1, 0 });
        // g(h) = μ_d + σ_d (W_d (h - μ_s) / σ_s + b) = (10, 0) + 4 * ((1, -1) / 0.5) = (18, -8)
        Assert.Equal([18f, -8f], bridges.Decode(Site, sparse).data<float>().ToArray());
        using Tensor dense = tensor(new float[] { 18, -8 });
        // f(h) = μ_s + σ_s (W_e (h - μ_d) / σ_d + b) = (0, 1) + 0.5 * (8, -8) / 4 = (1, 0): the decoder's inverse here
        Assert.Equal([1f, 0f], bridges.Encode(Site, dense).data<float>().ToArray());
        // steering's unit: one sparse unit of channel 0 moves the decoded residual by σ_d / σ_s along column 0
        Assert.Equal([8f, 0f], bridges.DecoderColumn(Site, 0).data<float>().ToArray());
        Assert.Equal(4, bridges.DenseScaleOf(Site), 6);
        Assert.Equal(0.5, bridges.SparseScaleOf(Site), 6);
    }

    [Fact]
    public void New_maps_predict_close_to_the_target_mean()
    {
        using var generator = new Generator().manual_seed(1);
        using var bridges = new BridgeSet(1, 64, 32, encoderTopK: 0.25, generator);
        using Tensor dense = randn(512, 64, generator: generator) * 3 + 5;
        using Tensor sparse = randn(512, 32, generator: generator) * 0.01 - 0.2;
        bridges.SetDenseStatistics(Site, dense);
        bridges.TrackSparseStatistics(Site, sparse);
        double decoder = BridgeLosses.Nmse(bridges.Decode(Site, sparse), dense).item<float>();
        double encoder = BridgeLosses.Nmse(bridges.Encode(Site, dense), sparse).item<float>();
        Assert.InRange(decoder, 0.95, 1.1); // the mean itself scores 1; raw maps started in the hundreds or thousands
        Assert.InRange(encoder, 0.95, 1.1);
    }

    [Fact]
    public void Bridge_loss_gradients_into_the_sparse_residual_do_not_grow_as_it_shrinks()
    {
        using var generator = new Generator().manual_seed(2);
        using var bridges = new BridgeSet(1, 8, 6, encoderTopK: null, generator);
        using Tensor dense = randn(64, 8, generator: generator) * 3 + 1;
        using Tensor residual = randn(64, 6, generator: generator) + 0.5;
        bridges.SetDenseStatistics(Site, dense);
        (double[] Raw, double[] ScaleFree, float[] Value) Gradients(double scale)
        {
            using var scope = NewDisposeScope();
            Tensor h = (residual * scale).requires_grad_(true);
            bridges.TrackSparseStatistics(Site, h);
            Tensor seen = bridges.ScaleFreeGradient(Site, h);
            (BridgeLosses.Nmse(bridges.Decode(Site, seen), dense) + BridgeLosses.Nmse(bridges.Encode(Site, dense), seen)).backward();
            double[] scaleFree = h.grad!.to(ScalarType.Float64).data<double>().ToArray();
            h.grad!.zero_();
            (BridgeLosses.Nmse(bridges.Decode(Site, h), dense) + BridgeLosses.Nmse(bridges.Encode(Site, dense), h)).backward();
            return (h.grad!.to(ScalarType.Float64).data<double>().ToArray(), scaleFree, (seen - h).abs().max().data<float>().ToArray());
        }
        var unit = Gradients(1);
        var small = Gradients(0.01);
        Assert.Equal(0f, small.Value[0]); // the same values
        // The plain gradient is 100x larger at 1/100 of the scale; the scale-free one is the same.
        for (int i = 0; i < unit.Raw.Length; i++)
        {
            Assert.Equal(unit.Raw[i] * 100, small.Raw[i], Math.Abs(unit.Raw[i]) * 100 * 1e-3 + 1e-9);
            Assert.Equal(unit.ScaleFree[i], small.ScaleFree[i], Math.Abs(unit.ScaleFree[i]) * 1e-3 + 1e-9);
        }
        Assert.Contains(unit.ScaleFree, g => Math.Abs(g) > 1e-6);
    }

    [Fact]
    public void The_sparse_statistics_are_the_last_batch_and_a_batch_without_spread_leaves_them()
    {
        using var bridges = new BridgeSet(1, 2, 2, encoderTopK: null);
        Assert.Equal(1, bridges.SparseScaleOf(Site)); // before any training: unit scale
        using Tensor first = tensor(new float[] { 3, -3, -3, 3 }).view(2, 2);
        bridges.TrackSparseStatistics(Site, first);
        Assert.Equal(3, bridges.SparseScaleOf(Site), 6);
        using Tensor constant = full(new long[] { 2, 2 }, 7f);
        bridges.TrackSparseStatistics(Site, constant);
        Assert.Equal(3, bridges.SparseScaleOf(Site), 6);
        var error = Assert.Throws<SparseCircuitsException>(() => bridges.SetDenseStatistics(Site, constant));
        Assert.Contains("0.resid_in", error.Message);
    }

    [Fact]
    public void Bridges_of_another_format_are_refused_in_one_line()
    {
        using var saved = IdentityBridges();
        var older = saved.Export().Where(kv => !kv.Key.EndsWith(".sparse_mean")).ToDictionary(kv => kv.Key, kv => kv.Value);
        using var loaded = new BridgeSet(1, 2, 2, encoderTopK: null);
        var error = Assert.Throws<SparseCircuitsException>(() => loaded.Import(older, "old.safetensors"));
        Assert.Contains("missing: 0.resid_in.sparse_mean", error.Message);
        loaded.Import(saved.Export(), "bridges.safetensors");
        Assert.Equal(0.5, loaded.SparseScaleOf(Site), 6);
    }
}

using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Tests.Model;
using SparseCircuits.Tests.Support;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The mean cache: values, storage, and the tie to the checkpoint.</summary>
public sealed class MeanActivationsTests
{
    public MeanActivationsTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Means_equal_a_direct_average_over_every_position()
    {
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny(), dtype: ScalarType.Float64);
        Tensor a = TestModels.Tokens(3, 16, seed: 1), b = TestModels.Tokens(2, 16, seed: 2);
        using var means = MeanActivations.Compute(model, [a, b]);
        Assert.Equal(5 * 16, means.Tokens);

        var space = new NodeSpace(model.Config);
        var hooks = new Hooks().Record(space.Points.Select(p => p.Name));
        using (no_grad()) model.forward(cat([a, b]), hooks);
        foreach (NodePoint p in space.Points)
        {
            Tensor direct = hooks[p.Name].mean([0, 1]).to(ScalarType.Float32);
            Assert.True(means[p.Name].allclose(direct, rtol: 1e-6, atol: 1e-7), p.Name);
            Assert.Equal(new long[] { p.Width }, means[p.Name].shape);
        }
        float[] flat = means.Flat(space);
        Assert.Equal(means["1.mlp.post_act"][3].item<float>(), flat[space.IndexOf(new NodeId(1, NodeLocation.MlpPostAct, 3))]);
    }

    [Fact]
    public void Means_over_a_shard_use_consecutive_windows_of_n_ctx()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var model = TestModels.Create(TestModels.Tiny());
        int T = model.Config.NCtx;
        var ids = Enumerable.Range(0, 5 * T + 3).Select(i => (ushort)(i * 7 % TestModels.Vocab)).ToArray();
        string path = dir.WriteBytes("val.bin", ids.SelectMany(BitConverter.GetBytes).ToArray());
        using var shard = new TokenShard(path);
        using var fromShard = MeanActivations.Compute(model, shard, maxTokens: 3 * T, batchSize: 2);
        Tensor windows = tensor(ids.Take(3 * T).Select(i => (long)i).ToArray()).view(3, T);
        using var direct = MeanActivations.Compute(model, [windows]);
        Assert.Equal(3 * T, fromShard.Tokens);
        foreach (var (point, value) in direct.ByPoint) Assert.True(fromShard[point].allclose(value, rtol: 1e-5, atol: 1e-6), point);
    }

    [Fact]
    public void The_cache_round_trips_and_refuses_other_weights()
    {
        using var dir = new TempDir();
        using var model = TestModels.Create(TestModels.Tiny());
        using var means = MeanActivations.Compute(model, [TestModels.Tokens(2, 16)]);
        var reference = new ModelReference(dir.Path, "checkpoints/step_000010", 10, new string('a', 64));

        var missing = Assert.Throws<SparseCircuitsException>(() => MeanCache.Load(reference));
        Assert.Contains("no mean-activation cache", missing.Message);
        Assert.Contains("circuits means --model", missing.Message);

        MeanCacheInfo info = MeanCache.Save(means, reference, "/data", "val");
        Assert.Equal(1, info.Format);
        using (var loaded = MeanCache.Load(reference))
            foreach (var (point, value) in means.ByPoint) Assert.True(loaded[point].Same(value), point);

        var stale = Assert.Throws<SparseCircuitsException>(() => MeanCache.Load(reference with { Checkpoint = "checkpoints/step_000020", CheckpointSha256 = new string('b', 64) }));
        Assert.Contains("stale", stale.Message);
        Assert.Contains("step_000010", stale.Message);
        Assert.Contains("circuits means --model", stale.Message);

        string tensors = Path.Combine(MeanCache.Directory(dir.Path), MeanCache.TensorFile);
        byte[] bytes = File.ReadAllBytes(tensors);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(tensors, bytes);
        Assert.Contains("does not match", Assert.Throws<SparseCircuitsException>(() => MeanCache.Load(reference)).Message);

        File.WriteAllText(Path.Combine(MeanCache.Directory(dir.Path), MeanCache.InfoFile), "{ not json");
        Assert.Contains("damaged", Assert.Throws<SparseCircuitsException>(() => MeanCache.Load(reference)).Message);
    }
}

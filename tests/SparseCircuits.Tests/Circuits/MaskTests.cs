using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tests.Model;
using static TorchSharp.torch;
using SparseCircuits.Tasks;

namespace SparseCircuits.Tests.Circuits;

/// <summary>The straight-through mask, tau's range, the schedule and q/k tying.</summary>
public sealed class MaskTests
{
    public MaskTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Straight_through_mask_is_heaviside_forward_and_sigmoid_derivative_backward()
    {
        using var scope = NewDisposeScope();
        double[] values = [-0.9, -0.01, 0.0, 0.01, 0.7];
        const double temperature = 0.5;
        Tensor tau = tensor(values, ScalarType.Float64).requires_grad_(true);
        Tensor mask = StraightThroughMask.Apply(tau, temperature);
        Assert.Equal(new[] { 0.0, 0.0, 0.0, 1.0, 1.0 }, mask.detach().data<double>().ToArray());

        double[] upstream = [1.0, -2.0, 3.0, 0.5, 4.0];
        (mask * tensor(upstream, ScalarType.Float64)).sum().backward();
        double[] grad = tau.grad!.data<double>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            double s = 1 / (1 + Math.Exp(-values[i] / temperature));
            Assert.Equal(upstream[i] * s * (1 - s) / temperature, grad[i], 12);
        }
    }

    [Fact]
    public void Tau_starts_and_stays_in_minus_one_to_one()
    {
        using var init = LearnedMasks.InitialTau(10_000, new PruningConfig { InitMean = 0.1, InitStd = 2 }, seed: 3);
        float[] start = init.data<float>().ToArray();
        Assert.All(start, t => Assert.InRange(t, -1f, 1f));
        Assert.Contains(1f, start);
        Assert.Contains(-1f, start);
        Assert.True(init.requires_grad);

        using var normal = LearnedMasks.InitialTau(10_000, new PruningConfig(), seed: 3);
        float[] n = normal.data<float>().ToArray();
        Assert.InRange(n.Average(), 0.099, 0.101);
        Assert.InRange(Math.Sqrt(n.Average(x => (x - 0.1) * (x - 0.1))), 0.0095, 0.0105);

        // A huge learning rate would throw tau far outside the range without the clamp after each step.
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var config = new PruningConfig { Steps = 5, LearningRate = 50, KCoef = 1, WarmupFraction = 0 };
        var result = LearnedMasks.Train(model, ablation, new MaskUnits(space, false), PlantedModel.Task().Train, config, config.Setting(0));
        Assert.All(result.Tau, t => Assert.InRange(t, -1f, 1f));
        Assert.Contains(-1f, result.Tau);
    }

    [Fact]
    public void Pruning_leaves_the_weights_untouched_and_trainable()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var config = new PruningConfig { Steps = 3 };
        LearnedMasks.Train(model, ablation, new MaskUnits(space, false), PlantedModel.Task().Train, config, config.Setting(0));
        foreach (var (name, value) in model.state_dict()) Assert.True(value.Same(before[name]), name);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Length_chunks_are_sorted_by_length_and_cover_the_batch_once()
    {
        var prompts = new[] { 5, 1, 4, 4, 2, 9, 3 }.Select((n, i) => new TaskExample(Enumerable.Repeat(i, n).ToArray(), 1, 2)).ToList();
        var chunks = LearnedMasks.LengthChunks(prompts, 3).ToList();
        Assert.Equal([2, 2, 3], chunks.Select(c => c.Count));
        Assert.Equal([1, 2, 3, 4, 4, 5, 9], chunks.SelectMany(c => c).Select(p => p.PromptIds.Length));
        Assert.Single(LearnedMasks.LengthChunks(prompts, 1));
        Assert.Equal(7, LearnedMasks.LengthChunks(prompts, 50).Count()); // never an empty chunk
    }

    [Fact]
    public void Length_chunked_steps_learn_the_same_masks_as_one_padded_batch()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var space = new NodeSpace(model.Config);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var train = PlantedModel.Task().Train; // 1 to 4 tokens long
        Assert.True(train.Select(e => e.PromptIds.Length).Distinct().Count() > 1);
        var whole = new PruningConfig { Steps = 4, BatchPrompts = 24, LengthChunks = 1 };
        var a = LearnedMasks.Train(model, ablation, new MaskUnits(space, false), train, whole, whole.Setting(0));
        var chunked = whole with { LengthChunks = 3 };
        var b = LearnedMasks.Train(model, ablation, new MaskUnits(space, false), train, chunked, chunked.Setting(0));
        Assert.Equal(a.LastTaskLoss, b.LastTaskLoss, 5);
        for (int i = 0; i < a.Tau.Length; i++) Assert.Equal(a.Tau[i], b.Tau[i], 5);
        Assert.Equal(a.OpenNodes, b.OpenNodes);
    }

    [Fact]
    public void Learning_rate_warms_up_then_decays_linearly()
    {
        Assert.Equal(0.2, LearnedMasks.LearningRate(0, 100, 1, 0.05), 12);
        Assert.Equal(1.0, LearnedMasks.LearningRate(4, 100, 1, 0.05), 12);
        Assert.Equal(1.0, LearnedMasks.LearningRate(5, 100, 1, 0.05), 12);
        Assert.Equal(50.0 / 95, LearnedMasks.LearningRate(50, 100, 1, 0.05), 12);
        Assert.Equal(1.0 / 95, LearnedMasks.LearningRate(99, 100, 1, 0.05), 12);
        Assert.Equal(3e-3, LearnedMasks.LearningRate(0, 10, 3e-3, 0), 12);
    }

    [Fact]
    public void Tied_q_and_k_share_one_unit_per_channel()
    {
        var config = TestModels.Tiny();
        var space = new NodeSpace(config);
        var untied = new MaskUnits(space, tieQk: false);
        var tied = new MaskUnits(space, tieQk: true);
        int qk = config.NHead * config.DHead;
        Assert.Equal(space.Count, untied.Count);
        Assert.Equal(space.Count - config.NLayer * qk, tied.Count);
        for (int layer = 0; layer < config.NLayer; layer++)
            for (int j = 0; j < qk; j++)
            {
                int q = space.IndexOf(new NodeId(layer, NodeLocation.AttnQ, j)), k = space.IndexOf(new NodeId(layer, NodeLocation.AttnK, j));
                Assert.Equal(tied.UnitOfNode[q], tied.UnitOfNode[k]);
                Assert.Equal(new[] { q, k }, tied.NodesOfUnit[tied.UnitOfNode[q]]);
            }
        int[] ranking = MaskUnits.Rank(Enumerable.Range(0, tied.Count).Select(u => (double)-u).ToArray());
        Assert.Equal(Enumerable.Range(0, tied.Count), ranking);
        Assert.Equal(tied.NodesOfUnit.Take(3).Sum(u => u.Length), tied.Keep(ranking, 3).Count(b => b));
    }

    [Fact]
    public void Node_space_numbers_every_channel_once_in_forward_order()
    {
        var config = TestModels.Tiny();
        var space = new NodeSpace(config);
        int perLayer = 4 * config.DModel + 3 * config.NHead * config.DHead + config.MlpWidth;
        Assert.Equal(config.NLayer * perLayer, space.Count);
        for (int i = 0; i < space.Count; i++) Assert.Equal(i, space.IndexOf(space[i]));
        Assert.Equal("1.attn.k[5]", space[space.IndexOf(new NodeId(1, NodeLocation.AttnK, 5))].ToString());
        Assert.Equal(1, new NodeId(0, NodeLocation.AttnV, 17).Head(16));
        Assert.Null(new NodeId(0, NodeLocation.MlpPostAct, 17).Head(16));
        Assert.Throws<SparseCircuitsException>(() => NodeLocations.Parse("attn.z"));
    }
}

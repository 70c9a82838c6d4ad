using SparseCircuits.Core;
using SparseCircuits.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class AdamWithDecoupledDecayTests
{
    public AdamWithDecoupledDecayTests() => TorchRuntime.EnsureInitialized();

    /// <summary>Gives <paramref name="p"/> exactly the gradient <paramref name="g"/>.</summary>
    internal static void SetGrad(Parameter p, Tensor g)
    {
        Tensor? existing = p.grad;
        if (existing is null)
        {
            using Tensor loss = (p * g.detach()).sum();
            loss.backward();
        }
        else
        {
            using var noGrad = torch.no_grad();
            existing.copy_(g);
        }
    }

    [Fact]
    public void Two_steps_match_hand_computation()
    {
        using var scope = torch.NewDisposeScope();
        var w = new Parameter(torch.tensor(new[] { 1.0, -2.0 }));
        var bias = new Parameter(torch.tensor(new[] { 0.3 }));
        using var adam = new AdamWithDecoupledDecay([new("w", w, Decay: true), new("bias", bias, Decay: false)], new AdamConfig());

        // Step 1, lr 0.1, g = [0.5, -1]: m = 0.1 g, v = 0.05 g^2, so m/(1-0.9) = g and
        // sqrt(v/(1-0.95)) = |g|; w -= 0.1 * g / (|g| + 0.1) = [0.1*0.5/0.6, -0.1*1/1.1].
        SetGrad(w, torch.tensor(new[] { 0.5, -1.0 }));
        SetGrad(bias, torch.tensor(new[] { 0.2 }));
        adam.Step(0.1);
        Assert.Equal(1.0 - 0.05 / 0.6, w[0].item<double>(), 12);
        Assert.Equal(-2.0 + 0.1 / 1.1, w[1].item<double>(), 12);
        Assert.Equal(0.3 - 0.1 * 0.2 / 0.3, bias[0].item<double>(), 12);
        // Decoupled decay: w *= 1 - 0.1 * 0.1, bias untouched.
        adam.ApplyWeightDecay(0.1);
        Assert.Equal(0.9075, w[0].item<double>(), 12);
        Assert.Equal(-1.89, w[1].item<double>(), 12);
        Assert.Equal(0.3 - 0.1 * 0.2 / 0.3, bias[0].item<double>(), 12);

        // Step 2, lr 0.05, g = [-0.5, 2]: m = 0.9 m1 + 0.1 g = [-0.005, 0.11],
        // v = 0.95 v1 + 0.05 g^2 = [0.024375, 0.2475], bias corrections 0.19 and 0.0975.
        SetGrad(w, torch.tensor(new[] { -0.5, 2.0 }));
        adam.Step(0.05);
        Assert.Equal(0.9075 - 0.05 / 0.19 * -0.005 / (Math.Sqrt(0.024375 / 0.0975) + 0.1), w[0].item<double>(), 12);
        Assert.Equal(-1.89 - 0.05 / 0.19 * 0.11 / (Math.Sqrt(0.2475 / 0.0975) + 0.1), w[1].item<double>(), 12);
        Assert.Equal(0.9096929824561403, w[0].item<double>(), 12);
        adam.ApplyWeightDecay(0.05);
        Assert.Equal(0.9051445175438596, w[0].item<double>(), 12);
        Assert.Equal(-1.8975602148507311, w[1].item<double>(), 12);
        Assert.Equal(2, adam.StepCount);

        var state = adam.ExportState();
        Assert.Equal(2L, state["step"].item<long>());
        Assert.Equal(-0.005, state["w.exp_avg"][0].item<double>(), 12);
        Assert.Equal(0.2475, state["w.exp_avg_sq"][1].item<double>(), 12);
    }

    [Fact]
    public void Matches_TorchSharp_Adam_bit_for_bit()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(1234);
        Tensor[] init = [torch.randn(64, 32, generator: generator), torch.randn(32, generator: generator), torch.randn(7, 3, 5, generator: generator)];
        Parameter[] ours = init.Select(t => new Parameter(t.clone())).ToArray();
        Parameter[] theirs = init.Select(t => new Parameter(t.clone())).ToArray();
        var config = new AdamConfig(Beta1: 0.9, Beta2: 0.95, Eps: 0.1, WeightDecay: 0.1);
        using var adam = new AdamWithDecoupledDecay(ours.Select((p, i) => new OptimizedParameter($"p{i}", p, Decay: true)), config);
        const double lr = 3e-3;
        var reference = torch.optim.Adam(theirs, lr: lr, beta1: config.Beta1, beta2: config.Beta2, eps: config.Eps, weight_decay: 0);

        for (int step = 0; step < 5; step++)
        {
            for (int i = 0; i < init.Length; i++)
            {
                Tensor g = torch.randn(init[i].shape, generator: generator) * (step + 1);
                SetGrad(ours[i], g);
                SetGrad(theirs[i], g);
            }
            adam.Step(lr);
            reference.step();
            for (int i = 0; i < init.Length; i++) Assert.True(Bits.Identical(ours[i], theirs[i]), $"p{i} differs after step {step + 1}");
        }
    }

    [Fact]
    public void Exported_state_resumes_bit_identically_through_safetensors()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(7);
        Tensor[] init = [torch.randn(16, 8, generator: generator), torch.randn(8, generator: generator)];
        Tensor[][] grads = Enumerable.Range(0, 5).Select(_ => init.Select(t => torch.randn(t.shape, generator: generator)).ToArray()).ToArray();
        double[] lrs = [1e-2, 2e-2, 3e-2, 2e-2, 1e-2];

        Parameter[] continuous = init.Select(t => new Parameter(t.clone())).ToArray();
        using var a = new AdamWithDecoupledDecay(Named(continuous), new AdamConfig());
        for (int s = 0; s < 3; s++) TrainStep(a, continuous, grads[s], lrs[s]);
        SafeTensors.Write(dir.File("optimizer.safetensors"), a.ExportState());
        Tensor[] snapshot = continuous.Select(p => p.detach().clone()).ToArray();
        for (int s = 3; s < 5; s++) TrainStep(a, continuous, grads[s], lrs[s]);

        Parameter[] resumed = snapshot.Select(t => new Parameter(t.clone())).ToArray();
        using var b = new AdamWithDecoupledDecay(Named(resumed), new AdamConfig());
        b.ImportState(SafeTensors.Read(dir.File("optimizer.safetensors")).Tensors);
        Assert.Equal(3, b.StepCount);
        for (int s = 3; s < 5; s++) TrainStep(b, resumed, grads[s], lrs[s]);

        for (int i = 0; i < init.Length; i++) Assert.True(Bits.Identical(continuous[i], resumed[i]), $"p{i} differs after resume");
        var stateA = a.ExportState();
        var stateB = b.ExportState();
        Assert.Equal(stateA.Keys, stateB.Keys);
        foreach (string key in stateA.Keys) Assert.True(Bits.Identical(stateA[key], stateB[key]), key);

        static IEnumerable<OptimizedParameter> Named(Parameter[] ps) => ps.Select((p, i) => new OptimizedParameter($"layer.{i}.weight", p, Decay: p.dim() == 2));

        static void TrainStep(AdamWithDecoupledDecay adam, Parameter[] ps, Tensor[] g, double lr)
        {
            for (int i = 0; i < ps.Length; i++) SetGrad(ps[i], g[i]);
            adam.Step(lr);
            adam.ApplyWeightDecay(lr);
        }
    }

    [Fact]
    public void Parameter_without_gradient_is_left_alone()
    {
        using var scope = torch.NewDisposeScope();
        var used = new Parameter(torch.ones(3));
        var unused = new Parameter(torch.ones(3));
        using var adam = new AdamWithDecoupledDecay([new("used", used, false), new("unused", unused, false)], new AdamConfig());
        SetGrad(used, torch.ones(3));
        adam.Step(0.1);
        Assert.True(Bits.Identical(unused, torch.ones(3)));
        Assert.False(Bits.Identical(used, torch.ones(3)));
        Assert.True(Bits.Identical(adam.ExportState()["unused.exp_avg"], torch.zeros(3)));
    }

    [Fact]
    public void Import_rejects_state_of_another_model()
    {
        using var scope = torch.NewDisposeScope();
        var p = new Parameter(torch.ones(2, 3));
        using var adam = new AdamWithDecoupledDecay([new("w", p, true)], new AdamConfig());
        var good = adam.ExportState();

        string Error(Action<OrderedDictionary<string, Tensor>> corrupt)
        {
            var state = new OrderedDictionary<string, Tensor>(good);
            corrupt(state);
            var e = Assert.Throws<SparseCircuitsException>(() => adam.ImportState(state));
            Assert.DoesNotContain('\n', e.Message);
            return e.Message;
        }

        Assert.Contains("no entry 'w.exp_avg_sq'", Error(s => s.Remove("w.exp_avg_sq")));
        Assert.Contains("no 'step' entry", Error(s => s.Remove("step")));
        Assert.Contains("[3,2]", Error(s => s["w.exp_avg"] = torch.zeros(3, 2)));
        Assert.Contains("Float64", Error(s => s["w.exp_avg"] = torch.zeros(2, 3, dtype: ScalarType.Float64)));
        Assert.Contains("'v.exp_avg'", Error(s => s["v.exp_avg"] = torch.zeros(1)));
        Assert.Contains("negative", Error(s => s["step"] = torch.tensor(-1L)));
        Assert.Contains("int64", Error(s => s["step"] = torch.tensor(1.0f)));
    }

    [Fact]
    public void Config_validation_names_the_field()
    {
        Assert.Contains("beta1", Assert.Throws<SparseCircuitsException>(() => new AdamConfig(Beta1: 1.0).Validate()).Message);
        Assert.Contains("beta2", Assert.Throws<SparseCircuitsException>(() => new AdamConfig(Beta2: -0.1).Validate()).Message);
        Assert.Contains("eps", Assert.Throws<SparseCircuitsException>(() => new AdamConfig(Eps: 0).Validate()).Message);
        Assert.Contains("weight_decay", Assert.Throws<SparseCircuitsException>(() => new AdamConfig(WeightDecay: double.NaN).Validate()).Message);
        Assert.Equal(new AdamConfig(0.9, 0.95, 0.1, 0.1), new AdamConfig().Validate());
    }
}

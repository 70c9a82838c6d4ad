using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// Adam with bias correction and decoupled weight decay, split in two calls because the paper
/// runs the top-k projection between them. One training step is:
/// <code>
/// optimizer.Step(lr);             // Adam update from the (normalised) gradients
/// projection.Apply(...);          // keep the top-k |w| of each sparse matrix (caller)
/// optimizer.ApplyWeightDecay(lr); // w *= 1 - lr * weight_decay on decay-flagged parameters
/// </code>
/// The update is the one of TorchSharp's <c>torch.optim.Adam</c>, op for op, so results match it bit for bit:
/// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
/// Moments stay dense even where the projection zeroes weights. The step count t is global (one
/// per <see cref="Step"/>); a parameter without a gradient is skipped in that step.
/// </summary>
public sealed class AdamWithDecoupledDecay : IDisposable
{
    public const string StepKey = "step";
    public const string FirstMomentSuffix = ".exp_avg";
    public const string SecondMomentSuffix = ".exp_avg_sq";

    readonly AdamConfig _config;
    readonly OptimizedParameter[] _parameters;
    readonly Tensor[] _firstMoments;
    readonly Tensor[] _secondMoments;
    // One buffer per dtype, as large as the largest parameter, holds each update's denominator:
    // allocating a fresh multi-megabyte tensor per parameter per step costs more (page faults)
    // than the arithmetic.
    readonly Dictionary<ScalarType, Tensor> _scratch;

    public AdamWithDecoupledDecay(IEnumerable<OptimizedParameter> parameters, AdamConfig config)
    {
        _config = config.Validate();
        _parameters = parameters.ToArray();
        var names = new HashSet<string>();
        foreach (OptimizedParameter p in _parameters)
        {
            if (!names.Add(p.Name)) throw new ArgumentException($"parameter '{p.Name}' is listed twice");
            if (!p.Value.is_floating_point()) throw new ArgumentException($"parameter '{p.Name}' is {p.Value.dtype}, not floating point");
        }
        TorchRuntime.EnsureInitialized();
        // Moments live as long as the optimizer, so they must not belong to the caller's dispose scope.
        _firstMoments = _parameters.Select(p => torch.zeros_like(p.Value).DetachFromDisposeScope()).ToArray();
        _secondMoments = _parameters.Select(p => torch.zeros_like(p.Value).DetachFromDisposeScope()).ToArray();
        _scratch = _parameters.GroupBy(p => p.Value.dtype).ToDictionary(
            g => g.Key, g => torch.empty(g.Max(p => p.Value.numel()), dtype: g.Key, device: g.First().Value.device).DetachFromDisposeScope());
    }

    public AdamConfig Config => _config;

    public IReadOnlyList<OptimizedParameter> Parameters => _parameters;

    /// <summary>Number of <see cref="Step"/> calls so far (restored by <see cref="ImportState"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>One Adam update of every parameter that has a gradient, at learning rate <paramref name="learningRate"/>.</summary>
    public void Step(double learningRate)
    {
        CheckLearningRate(learningRate);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        StepCount++;
        double beta1 = _config.Beta1, beta2 = _config.Beta2;
        double biasCorrection1 = 1 - Math.Pow(beta1, StepCount);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, StepCount));
        double stepSize = learningRate / biasCorrection1;
        // Explicit scalars that live until the loop ends: TorchSharp's implicit double -> Scalar
        // temporaries can be finalised by a GC on another thread while the native call still reads them.
        using Scalar b1 = beta1, oneMinusB1 = 1 - beta1, b2 = beta2, oneMinusB2 = 1 - beta2;
        using Scalar correction2 = biasCorrection2Sqrt, eps = _config.Eps;
        for (int i = 0; i < _parameters.Length; i++)
        {
            Tensor? grad = _parameters[i].Value.grad;
            if (grad is null) continue;
            Tensor m = _firstMoments[i], v = _secondMoments[i];
            m.mul_(b1).add_(grad, alpha: oneMinusB1);
            v.mul_(b2).addcmul_(grad, grad, value: oneMinusB2);
            Tensor denominator = _scratch[v.dtype].narrow(0, 0, v.numel()).view(v.shape);
            denominator.copy_(v).sqrt_().div_(correction2).add_(eps);
            using Scalar step = -stepSize * _parameters[i].LearningRateScale;
            _parameters[i].Value.addcdiv_(m, denominator, value: step);
        }
    }

    /// <summary>Decoupled weight decay, w *= 1 - lr * weight_decay, on parameters flagged for decay. Call after the projection.</summary>
    public void ApplyWeightDecay(double learningRate)
    {
        CheckLearningRate(learningRate);
        if (_config.WeightDecay == 0) return;
        using var noGrad = torch.no_grad();
        using Scalar factor = 1 - learningRate * _config.WeightDecay; // explicit: see Step
        foreach (OptimizedParameter p in _parameters)
        {
            if (p.Decay) p.Value.mul_(factor);
        }
    }

    static void CheckLearningRate(double learningRate)
    {
        if (!(learningRate >= 0 && double.IsFinite(learningRate)))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be finite and >= 0");
    }

    /// <summary>
    /// The optimizer state as named tensors for a checkpoint: <c>step</c> (int64 scalar), and per
    /// parameter <c>{name}.exp_avg</c> and <c>{name}.exp_avg_sq</c>. The moment tensors are aliases
    /// of the live state (no copy): write them out before the next <see cref="Step"/>; disposing
    /// them does not free the optimizer's state.
    /// </summary>
    public OrderedDictionary<string, Tensor> ExportState()
    {
        var state = new OrderedDictionary<string, Tensor> { [StepKey] = torch.tensor(StepCount, dtype: ScalarType.Int64) };
        for (int i = 0; i < _parameters.Length; i++)
        {
            state[_parameters[i].Name + FirstMomentSuffix] = _firstMoments[i].alias();
            state[_parameters[i].Name + SecondMomentSuffix] = _secondMoments[i].alias();
        }
        return state;
    }

    /// <summary>
    /// Restores state written by <see cref="ExportState"/> (values are copied). The state must
    /// describe exactly these parameters with the same shapes and dtypes, otherwise it belongs to
    /// another model and a <see cref="SparseCircuitsException"/> says which entry disagrees.
    /// </summary>
    public void ImportState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue(StepKey, out Tensor? stepTensor))
            throw new SparseCircuitsException($"optimizer state has no '{StepKey}' entry");
        if (stepTensor.numel() != 1 || stepTensor.dtype != ScalarType.Int64)
            throw new SparseCircuitsException($"optimizer state '{StepKey}' must be one int64 (got {stepTensor.dtype} with {stepTensor.numel()} elements)");
        long step = stepTensor.item<long>();
        if (step < 0) throw new SparseCircuitsException($"optimizer state '{StepKey}' is negative ({step})");

        var expected = new HashSet<string> { StepKey };
        for (int i = 0; i < _parameters.Length; i++)
        {
            foreach (string suffix in new[] { FirstMomentSuffix, SecondMomentSuffix })
            {
                string key = _parameters[i].Name + suffix;
                expected.Add(key);
                if (!state.TryGetValue(key, out Tensor? value)) throw new SparseCircuitsException($"optimizer state has no entry '{key}'");
                Tensor target = suffix == FirstMomentSuffix ? _firstMoments[i] : _secondMoments[i];
                if (!value.shape.SequenceEqual(target.shape) || value.dtype != target.dtype)
                    throw new SparseCircuitsException(
                        $"optimizer state '{key}' is {value.dtype} [{string.Join(",", value.shape)}] but the parameter is {target.dtype} [{string.Join(",", target.shape)}]");
            }
        }
        var unknown = state.Keys.Where(k => !expected.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new SparseCircuitsException($"optimizer state has {unknown.Count} entries for no parameter of this model, e.g. '{unknown[0]}'");

        using var noGrad = torch.no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _firstMoments[i].copy_(state[_parameters[i].Name + FirstMomentSuffix]);
            _secondMoments[i].copy_(state[_parameters[i].Name + SecondMomentSuffix]);
        }
        StepCount = step;
    }

    public void Dispose()
    {
        foreach (Tensor t in _firstMoments) t.Dispose();
        foreach (Tensor t in _secondMoments) t.Dispose();
        foreach (Tensor t in _scratch.Values) t.Dispose();
    }
}

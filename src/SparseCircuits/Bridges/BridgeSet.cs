using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>
/// The bridge maps of a dense and a sparse model (docs/bridges.md), one pair per site of
/// <see cref="BridgeSites"/>: an encoder dense -> sparse and a decoder sparse -> dense, affine up to
/// the encoder's AbsTopK. Both maps work between standardised residuals: μ_d, σ_d are the dense
/// residual's mean vector and scale at the site (σ = RMS of the residual minus its mean, over
/// tokens and channels; fixed numbers of the frozen dense model, measured once on held-out text),
/// μ_s, σ_s the sparse residual's (of each training batch, see <see cref="TrackSparseStatistics"/>):
/// <code>
/// f(h) = μ_s + σ_s AbsTopK(W_e (h - μ_d) / σ_d + b_e)
/// g(h) = μ_d + σ_d (W_d (h - μ_s) / σ_s + b_d)
/// </code>
/// Why: the two residuals differ in scale by orders of magnitude (a trained sparse <c>small</c>
/// about 1/370 of its dense partner) and both carry a large mean, while the NMSE only counts the
/// spread around the mean. Raw maps would have to grow their weights hundreds of times under Adam's
/// bounded steps (a first version's decoders ended worse than predicting the mean); in these units
/// a map starts near predicting the mean (small weights: NMSE ≈ 1) and only learns the spread. In
/// a difference of two decoded residuals (steering) the means cancel and g's factor σ_d / σ_s is
/// the models' residual scale ratio the paper's steering multiplies by.
/// Weights are laid out like torch.nn.Linear (out, in). Stored as <c>bridges.safetensors</c> in each
/// checkpoint, named per site: <c>{site}.encoder.weight</c> (d_sparse, d_dense), <c>{site}.encoder.bias</c>,
/// <c>{site}.decoder.weight</c> (d_dense, d_sparse), <c>{site}.decoder.bias</c>, and not trained
/// <c>{site}.dense_mean</c> (d_dense), <c>{site}.dense_scale</c>, <c>{site}.sparse_mean</c> (d_sparse),
/// <c>{site}.sparse_scale</c> (scalars), e.g. <c>2.resid_mid.decoder.weight</c>.
/// </summary>
public sealed class BridgeSet : IDisposable
{
    public const string FileName = "bridges.safetensors";
    /// <summary>Prefix of the bridge tensors' names in the optimizer state (model parameters start with transformer. or lm_head).</summary>
    public const string OptimizerPrefix = "bridges.";

    const string DenseMean = "dense_mean", DenseScale = "dense_scale", SparseMean = "sparse_mean", SparseScale = "sparse_scale";
    /// <summary>Initial weights at a tenth of torch.nn.Linear's: each map starts close to predicting the target's mean.</summary>
    const double InitScale = 0.1;

    readonly OrderedDictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    readonly int? _encoderK;

    /// <param name="generator">random source of the initial weights; null uses torch's global generator</param>
    public BridgeSet(int nLayer, int denseWidth, int sparseWidth, double? encoderTopK, Generator? generator = null)
    {
        (DenseWidth, SparseWidth) = (denseWidth, sparseWidth);
        Sites = BridgeSites.For(nLayer);
        _encoderK = AbsTopK.K(encoderTopK, sparseWidth);
        using var _ = no_grad();
        foreach (string site in Sites)
        {
            Add($"{site}.encoder.weight", empty(sparseWidth, denseWidth).uniform_(-InitScale / Math.Sqrt(denseWidth), InitScale / Math.Sqrt(denseWidth), generator));
            Add($"{site}.encoder.bias", zeros(sparseWidth));
            Add($"{site}.decoder.weight", empty(denseWidth, sparseWidth).uniform_(-InitScale / Math.Sqrt(sparseWidth), InitScale / Math.Sqrt(sparseWidth), generator));
            Add($"{site}.decoder.bias", zeros(denseWidth));
            Statistic($"{site}.{DenseMean}", zeros(denseWidth));
            Statistic($"{site}.{DenseScale}", ones(1));
            Statistic($"{site}.{SparseMean}", zeros(sparseWidth));
            Statistic($"{site}.{SparseScale}", ones(1));
        }

        void Add(string name, Tensor value) => _tensors[name] = value.requires_grad_(true).DetachFromDisposeScope();
        void Statistic(string name, Tensor value) => _tensors[name] = value.DetachFromDisposeScope();
    }

    public IReadOnlyList<string> Sites { get; }
    public int DenseWidth { get; }
    public int SparseWidth { get; }

    /// <summary>f_i: dense residual (..., d_dense) -> sparse residual (..., d_sparse).</summary>
    public Tensor Encode(string site, Tensor dense) =>
        Get(site, SparseMean) + Get(site, SparseScale) *
        AbsTopK.Apply(nn.functional.linear((dense - Get(site, DenseMean)) / Get(site, DenseScale), Get(site, "encoder.weight"), Get(site, "encoder.bias")), _encoderK);

    /// <summary>g_i: sparse residual (..., d_sparse) -> dense residual (..., d_dense).</summary>
    public Tensor Decode(string site, Tensor sparse) =>
        Get(site, DenseMean) + Get(site, DenseScale) *
        nn.functional.linear((sparse - Get(site, SparseMean)) / Get(site, SparseScale), Get(site, "decoder.weight"), Get(site, "decoder.bias"));

    /// <summary>
    /// The sparse residual <paramref name="sparse"/> as the bridge losses should see it: the same
    /// values, but the gradient flowing back into the sparse model is multiplied by σ_s. Every read of
    /// the sparse residual inside its model goes through a norm, so the language-model loss does not
    /// change with the residual's scale and neither do the bridge losses (they work on standardised
    /// residuals); but their gradient with respect to the residual grows as 1 / σ_s, and weight decay
    /// keeps shrinking σ_s. After the global gradient RMS normalisation those terms then drown the
    /// language-model gradient (joint training from scratch stalled at the unigram loss). Times σ_s, the
    /// gradient is what the residual would get at scale 1.
    /// </summary>
    public Tensor ScaleFreeGradient(string site, Tensor sparse)
    {
        using Tensor fixedValue = sparse.detach(), change = sparse - fixedValue;
        return fixedValue + change * Get(site, SparseScale); // exactly `sparse` in value: change is 0
    }

    /// <summary>
    /// What one unit of sparse channel <paramref name="channel"/> adds to the decoded dense residual:
    /// column <paramref name="channel"/> of the decoder weight times σ_d / σ_s (d_dense). Means and
    /// bias cancel in a difference of two decoded residuals, which is what steering adds.
    /// </summary>
    public Tensor DecoderColumn(string site, int channel) =>
        Get(site, "decoder.weight").select(1, channel) * Get(site, DenseScale) / Get(site, SparseScale);

    /// <summary>Sets a site's dense statistics from residuals (..., d_dense) of the frozen dense model (before training; afterwards they come with the checkpoint).</summary>
    public void SetDenseStatistics(string site, Tensor dense)
    {
        var (mean, scale) = Statistics(dense);
        if (!(scale > 0 && double.IsFinite(scale)))
            throw new SparseCircuitsException($"the dense residual at {site} has spread {scale}; bridges need a residual that varies over tokens");
        Set(site, DenseMean, DenseScale, mean, scale);
    }

    /// <summary>
    /// Sets the site's sparse statistics to those of <paramref name="sparse"/>, a training batch's
    /// residual at the site (no gradient flows through them). Every step, not a running mean: every
    /// block of the sparse model reads its residual through a norm, so nothing holds the residual's
    /// scale in place and weight decay shrinks it, in a tiny test pair 40x within 60 steps; a running
    /// mean lagged behind it. They are saved with the maps (evaluation and steering use the last
    /// training batch's), so a resumed run continues exactly. A batch without spread leaves them.
    /// </summary>
    public void TrackSparseStatistics(string site, Tensor sparse)
    {
        var (mean, scale) = Statistics(sparse);
        if (scale > 0 && double.IsFinite(scale)) Set(site, SparseMean, SparseScale, mean, scale);
        else mean.Dispose();
    }

    /// <summary>The dense residual's scale σ_d at a site.</summary>
    public double DenseScaleOf(string site) => Get(site, DenseScale).item<float>();

    /// <summary>The sparse residual's scale σ_s at a site (of the last training batch).</summary>
    public double SparseScaleOf(string site) => Get(site, SparseScale).item<float>();

    /// <summary>Mean vector over every token of <paramref name="h"/> (..., d) and the RMS of h minus it.</summary>
    static (Tensor Mean, double Scale) Statistics(Tensor h)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor flat = h.detach().reshape(-1, h.shape[^1]);
        Tensor mean = flat.mean([0]);
        double scale = Math.Sqrt((flat - mean).square().mean().item<float>());
        return (mean.MoveToOuterDisposeScope(), scale);
    }

    void Set(string site, string meanName, string scaleName, Tensor mean, double scale)
    {
        using var _ = no_grad();
        Get(site, meanName).copy_(mean);
        using Scalar value = scale;
        Get(site, scaleName).fill_(value);
        mean.Dispose();
    }

    /// <summary>Every tensor by its file name (the tensors themselves, not copies).</summary>
    public IReadOnlyDictionary<string, Tensor> Export() => _tensors;

    /// <summary>The trainable tensors (all but the statistics) for the optimizer, with <see cref="OptimizerPrefix"/> names; no weight decay.</summary>
    public IReadOnlyList<OptimizedParameter> Parameters(double learningRateScale = 1) =>
        _tensors.Where(kv => kv.Value.requires_grad)
            .Select(kv => new OptimizedParameter(OptimizerPrefix + kv.Key, kv.Value, Decay: false, learningRateScale)).ToList();

    /// <summary>Copies tensors saved by <see cref="Export"/>; any missing, extra or misshapen one is a user error naming <paramref name="source"/>.</summary>
    public void Import(IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        var missing = _tensors.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        var extra = tensors.Keys.Where(k => !_tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new SparseCircuitsException($"{source} holds bridges of other models (missing: {(missing.Count == 0 ? "none" : missing[0])}; unexpected: {(extra.Count == 0 ? "none" : extra[0])})");
        using var _ = no_grad();
        foreach (var (name, target) in _tensors)
        {
            Tensor value = tensors[name];
            if (!value.shape.SequenceEqual(target.shape))
                throw new SparseCircuitsException($"{source}: {name} has shape [{string.Join(", ", value.shape)}], the models need [{string.Join(", ", target.shape)}]");
            target.copy_(value);
        }
    }

    /// <summary>Clears the gradients of every bridge tensor.</summary>
    public void ZeroGrad()
    {
        foreach (Tensor t in _tensors.Values) t.grad?.zero_();
    }

    Tensor Get(string site, string part) => _tensors.TryGetValue($"{site}.{part}", out Tensor? t)
        ? t
        : throw new SparseCircuitsException($"no bridge at '{site}'; bridge sites are {string.Join(", ", Sites)}");

    public void Dispose()
    {
        foreach (Tensor t in _tensors.Values) t.Dispose();
    }
}

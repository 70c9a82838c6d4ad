using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>
/// The bridge maps of a dense and a sparse model (docs/bridges.md), one pair per site of
/// <see cref="BridgeSites"/>: an encoder dense -> sparse, <c>AbsTopK(W_e h + b_e)</c>, and a decoder
/// sparse -> dense, <c>W_d h + b_d</c>, both linear up to the AbsTopK. Each map works in units of the
/// dense residual's RMS s at its site (a fixed number of the frozen dense model, measured once on
/// held-out text): <c>f(h) = AbsTopK(W_e (h / s) + b_e)</c>, <c>g(h) = s (W_d h + b_d)</c>, so the
/// encoder reads unit-scale inputs and the decoder writes them, whatever the dense model's scale.
/// Weights are laid out like torch.nn.Linear (out, in). Stored as <c>bridges.safetensors</c> in each
/// checkpoint, named per site: <c>{site}.encoder.weight</c> (d_sparse, d_dense), <c>{site}.encoder.bias</c>,
/// <c>{site}.decoder.weight</c> (d_dense, d_sparse), <c>{site}.decoder.bias</c> and <c>{site}.dense_rms</c>
/// (a scalar, not trained), e.g. <c>2.resid_mid.decoder.weight</c>.
/// </summary>
public sealed class BridgeSet : IDisposable
{
    public const string FileName = "bridges.safetensors";
    /// <summary>Prefix of the bridge tensors' names in the optimizer state (model parameters start with transformer. or lm_head).</summary>
    public const string OptimizerPrefix = "bridges.";

    const double EncoderInitScale = 0.01;
    const string DenseRmsName = "dense_rms";

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
            // torch.nn.Linear's scale, the encoder's 100x smaller: a new sparse model's residual is
            // about 0.02 (its embeddings' init), a dense model's about 1, and an encoder that starts at
            // the dense scale has a per-token NMSE in the thousands that drowns every other term.
            double encoderBound = EncoderInitScale / Math.Sqrt(denseWidth);
            Add($"{site}.encoder.weight", empty(sparseWidth, denseWidth).uniform_(-encoderBound, encoderBound, generator));
            Add($"{site}.encoder.bias", zeros(sparseWidth));
            Add($"{site}.decoder.weight", empty(denseWidth, sparseWidth).uniform_(-1 / Math.Sqrt(sparseWidth), 1 / Math.Sqrt(sparseWidth), generator));
            Add($"{site}.decoder.bias", zeros(denseWidth));
            _tensors[$"{site}.{DenseRmsName}"] = ones(1).DetachFromDisposeScope();
        }

        void Add(string name, Tensor value) => _tensors[name] = value.requires_grad_(true).DetachFromDisposeScope();
    }

    public IReadOnlyList<string> Sites { get; }
    public int DenseWidth { get; }
    public int SparseWidth { get; }

    /// <summary>f_i: dense residual (..., d_dense) -> sparse residual (..., d_sparse).</summary>
    public Tensor Encode(string site, Tensor dense) =>
        AbsTopK.Apply(nn.functional.linear(dense / Get(site, DenseRmsName), Get(site, "encoder.weight"), Get(site, "encoder.bias")), _encoderK);

    /// <summary>g_i: sparse residual (..., d_sparse) -> dense residual (..., d_dense).</summary>
    public Tensor Decode(string site, Tensor sparse) =>
        nn.functional.linear(sparse, Get(site, "decoder.weight"), Get(site, "decoder.bias")) * Get(site, DenseRmsName);

    /// <summary>
    /// What one unit of sparse channel <paramref name="channel"/> adds to the decoded dense residual:
    /// column <paramref name="channel"/> of the decoder weight times the site's dense RMS (d_dense).
    /// The bias cancels in a difference of two decoded residuals, which is what steering adds.
    /// </summary>
    public Tensor DecoderColumn(string site, int channel) => Get(site, "decoder.weight").select(1, channel) * Get(site, DenseRmsName);

    /// <summary>Sets the dense residual RMS of a site (before training; afterwards it comes with the checkpoint).</summary>
    public void SetDenseRms(string site, double rms)
    {
        if (!(rms > 0 && double.IsFinite(rms))) throw new SparseCircuitsException($"the dense residual at {site} has RMS {rms}; bridges need a positive scale");
        using var _ = no_grad();
        Get(site, DenseRmsName).fill_(rms);
    }

    /// <summary>The dense residual RMS a site's maps are scaled by.</summary>
    public double DenseRms(string site) => Get(site, DenseRmsName).item<float>();

    /// <summary>Every tensor by its file name (the tensors themselves, not copies).</summary>
    public IReadOnlyDictionary<string, Tensor> Export() => _tensors;

    /// <summary>The trainable tensors (all but the RMS scales) for the optimizer, with <see cref="OptimizerPrefix"/> names; no weight decay.</summary>
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

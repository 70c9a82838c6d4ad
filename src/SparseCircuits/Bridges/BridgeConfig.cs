using SparseCircuits.Core;

namespace SparseCircuits.Bridges;

/// <summary>
/// The bridge part of a bridged training run (docs/bridges.md): the weight of each extra loss term
/// (the sparse model's own next-token loss has weight 1) and the encoder's AbsTopK. Stored in the
/// run's <c>bridges.json</c>; set with <c>--set bridges.field=value</c>.
/// </summary>
public sealed record BridgeConfig
{
    /// <summary>
    /// Default weight of the three bridge terms. The paper sums them unweighted (1); here, trained
    /// jointly from scratch, that sum is 10-20x the next-token loss and the run collapses once the
    /// weights reach final density, while at 0.1 the language model and the bridges both train
    /// (docs/bridges.md, "Bridge terms at a tenth of their weight hold").
    /// </summary>
    public const double DefaultTermWeight = 0.1;

    /// <summary>Weight of the summed NMSE terms, both directions at every site.</summary>
    public double NmseWeight { get; init; } = DefaultTermWeight;
    /// <summary>Weight of the summed KL(dense || sparse tail run from the encoded dense residual).</summary>
    public double KlDenseToSparseWeight { get; init; } = DefaultTermWeight;
    /// <summary>Weight of the summed KL(dense || dense tail run from the decoded sparse residual).</summary>
    public double KlSparseToDenseWeight { get; init; } = DefaultTermWeight;
    /// <summary>
    /// AbsTopK fraction of the encoder output (the paper's encoders end in AbsTopK; the fraction is
    /// our choice, the paper's AbsTopK of 1/4); null keeps every channel.
    /// </summary>
    public double? EncoderTopK { get; init; } = 0.25;
    /// <summary>
    /// Sites whose two hybrid KL terms run per step (null: all, as the paper). Each hybrid runs a
    /// model tail with a full unembedding, so on a CPU they dominate the step; with m of n sites the
    /// step takes sites round-robin (m consecutive ones, moving on by m each step) and scales their
    /// sum by n / m, so every site gets the same weight over n / m steps.
    /// </summary>
    public int? KlSitesPerStep { get; init; }
    /// <summary>
    /// Factor on the learning rate for the bridge maps. The model's matrices read normalised inputs;
    /// a bridge's input is a raw residual, and at the model's learning rate Adam's per-weight steps
    /// move a map's output by more than the sparse residual's whole spread each step.
    /// </summary>
    public double LearningRateScale { get; init; } = 0.1;
    /// <summary>
    /// Whether the sparse model trains with its bridges (the paper: trained jointly from scratch).
    /// false keeps its weights as they start, so only the maps learn: for bridges fitted around a
    /// sparse model that already does the tasks (<c>--init</c>), whose circuits then stay its own.
    /// A warm-started model trained jointly lost its language model here: the bridge terms'
    /// gradients outweighed its own loss (train loss 3.0 -> 6.4 in 125 steps).
    /// </summary>
    public bool TrainSparseModel { get; init; } = true;

    public BridgeConfig Validate()
    {
        Check(NmseWeight, "nmse_weight");
        Check(KlDenseToSparseWeight, "kl_dense_to_sparse_weight");
        Check(KlSparseToDenseWeight, "kl_sparse_to_dense_weight");
        if (!(LearningRateScale > 0 && double.IsFinite(LearningRateScale)))
            throw new SparseCircuitsException($"bridges config: learning_rate_scale must be > 0; got {LearningRateScale}");
        if (KlSitesPerStep is int m && m < 1) throw new SparseCircuitsException($"bridges config: kl_sites_per_step must be >= 1 or null (all); got {m}");
        if (EncoderTopK is double k && !(k > 0 && k <= 1))
            throw new SparseCircuitsException($"bridges config: encoder_top_k must be in (0, 1] or null (off); got {k}");
        return this;

        static void Check(double weight, string field)
        {
            if (!(weight >= 0 && double.IsFinite(weight))) throw new SparseCircuitsException($"bridges config: {field} must be >= 0; got {weight}");
        }
    }
}

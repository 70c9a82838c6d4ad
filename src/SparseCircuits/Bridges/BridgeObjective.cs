using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>
/// The training loss of a bridged sparse model (docs/bridges.md, "Losses"), as a trainer companion:
/// <code>
/// L = CE(sparse) + w_nmse  * Σ_i [NMSE(f_i(h_dense_i), h_sparse_i) + NMSE(g_i(h_sparse_i), h_dense_i)]
///                + w_kl_ds * Σ_i KL(dense logits || sparse model run from site i on f_i(h_dense_i))
///                + w_kl_sd * Σ_i KL(dense logits || dense model run from site i on g_i(h_sparse_i))
/// </code>
/// The dense model is frozen (no parameter of it gets a gradient, but gradients flow through its
/// tail into g_i and the sparse model); <see cref="BridgeConfig.KlSitesPerStep"/> may run the KL
/// terms on a rotating subset of sites. Residuals are read and tails run through the hook points
/// and <see cref="SparseGpt.ForwardFrom"/>. Each hybrid's backward runs on its own, so only one
/// tail's graph is alive at a time.
/// </summary>
public sealed class BridgeObjective(SparseGpt dense, BridgeSet bridges, BridgeConfig config, BridgeRunInfo info) : ITrainingCompanion
{
    public const string LmTerm = "lm";
    public const string NmseTerm = "nmse";
    public const string KlDenseToSparseTerm = "kl_dense_to_sparse";
    public const string KlSparseToDenseTerm = "kl_sparse_to_dense";

    public string CheckpointFile => BridgeSet.FileName;

    public bool FreezesModel => !config.TrainSparseModel;

    public IReadOnlyList<OptimizedParameter> Parameters { get; } = bridges.Parameters(config.LearningRateScale);

    public IReadOnlyDictionary<string, Tensor> Export() => bridges.Export();

    public void Import(IReadOnlyDictionary<string, Tensor> tensors, string source) => bridges.Import(tensors, source);

    /// <summary>The sites whose hybrids run at <paramref name="step"/> and the factor their KL sum is scaled by (see <see cref="BridgeConfig.KlSitesPerStep"/>).</summary>
    public static (IReadOnlyList<string> Sites, double Scale) KlSites(IReadOnlyList<string> sites, int? perStep, long step)
    {
        int n = sites.Count;
        if (perStep is not int m || m >= n) return (sites, 1);
        return (Enumerable.Range(0, m).Select(j => sites[(int)((step * m + j) % n)]).ToList(), (double)n / m);
    }

    public (double Loss, IReadOnlyDictionary<string, double> Terms) ForwardBackward(SparseGpt model, Tensor windows, long step)
    {
        long T = windows.shape[1] - 1;
        Tensor inputs = windows.narrow(1, 0, T), targets = windows.narrow(1, 1, T).reshape(-1);
        model.zero_grad();
        bridges.ZeroGrad();

        var denseHooks = new Hooks().Record(bridges.Sites);
        Tensor denseLogits;
        using (no_grad()) denseLogits = dense.forward(inputs, denseHooks);
        var sparseHooks = new Hooks().Record(bridges.Sites, keepGraph: true);
        Tensor logits = model.forward(inputs, sparseHooks);

        var encoded = new Dictionary<string, Tensor>();
        var decoded = new Dictionary<string, Tensor>();
        Tensor nmse = zeros(1);
        foreach (string site in bridges.Sites)
        {
            bridges.TrackSparseStatistics(site, sparseHooks[site]);
            Tensor sparse = bridges.ScaleFreeGradient(site, sparseHooks[site]); // see there: why the gradient into the sparse model is rescaled
            encoded[site] = bridges.Encode(site, denseHooks[site]);
            decoded[site] = bridges.Decode(site, sparse);
            nmse = nmse + BridgeLosses.Nmse(encoded[site], sparse) + BridgeLosses.Nmse(decoded[site], denseHooks[site]);
        }

        double klDenseToSparse = 0, klSparseToDense = 0;
        var (klSites, scale) = KlSites(bridges.Sites, config.KlSitesPerStep, step);
        foreach (string site in klSites)
        {
            using var scope = NewDisposeScope();
            Tensor toSparse = BridgeLosses.Kl(denseLogits, model.ForwardFrom(site, encoded[site], inputs));
            Tensor toDense = BridgeLosses.Kl(denseLogits, dense.ForwardFrom(site, decoded[site], inputs));
            (scale * (config.KlDenseToSparseWeight * toSparse + config.KlSparseToDenseWeight * toDense)).backward(retain_graph: true);
            klDenseToSparse += scale * toSparse.item<float>();
            klSparseToDense += scale * toDense.item<float>();
        }

        Tensor lm = FusedCrossEntropy.Mean(logits.view(-1, logits.shape[2]), targets);
        (lm + config.NmseWeight * nmse.squeeze()).backward();
        double lmValue = lm.item<float>(), nmseValue = nmse.item<float>();
        double total = lmValue + config.NmseWeight * nmseValue + config.KlDenseToSparseWeight * klDenseToSparse + config.KlSparseToDenseWeight * klSparseToDense;
        return (total, new Dictionary<string, double>
        {
            [LmTerm] = lmValue, [NmseTerm] = nmseValue, [KlDenseToSparseTerm] = klDenseToSparse, [KlSparseToDenseTerm] = klSparseToDense,
        });
    }

    public void PrepareRun(string runDir, bool resuming)
    {
        if (!resuming)
        {
            info.Save(runDir);
            return;
        }
        BridgeRunInfo saved = BridgeRunInfo.TryLoad(runDir)
            ?? throw new SparseCircuitsException($"{runDir} holds a training run without bridges ({BridgeRunInfo.FileName}); resume it with `circuits train --resume`");
        if (Json.Serialize(saved) != Json.Serialize(info))
            throw new SparseCircuitsException(saved.DenseModelSha256 != info.DenseModelSha256
                ? $"the dense model's weights differ from the ones {runDir} was started with ({saved.DenseCheckpoint}); resume next to the same dense checkpoint"
                : $"{BridgeRunInfo.PathIn(runDir)} differs from the requested bridges; resume with the run's own dense run and bridge settings");
    }
}

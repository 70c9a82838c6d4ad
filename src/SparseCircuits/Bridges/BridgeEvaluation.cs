using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Bridges;

/// <summary>
/// How well one bridge works on held-out text (docs/bridges.md, "Measuring a bridge"), all means
/// over tokens: NMSE of the encoder (f(h_dense) vs h_sparse) and the decoder (g(h_sparse) vs
/// h_dense); KL(dense || hybrid) and next-token loss of the two hybrids run from this site: the
/// sparse model's tail on the encoded dense residual, and the dense model's tail on the decoded
/// sparse residual.
/// </summary>
public sealed record BridgeSiteQuality(string Site, double NmseEncoder, double NmseDecoder,
    double KlDenseToSparse, double KlSparseToDense, double LossDenseToSparse, double LossSparseToDense);

/// <summary><c>bridges-eval.json</c>: every site's <see cref="BridgeSiteQuality"/> next to both models' own next-token loss on the same tokens.</summary>
public sealed record BridgeEvaluation(string Split, long Tokens, double DenseLoss, double SparseLoss, IReadOnlyList<BridgeSiteQuality> Sites)
{
    public const string FileName = "bridges-eval.json";
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The last evaluation saved in a run directory, or null.</summary>
    public static BridgeEvaluation? TryLoad(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        return File.Exists(path) ? Json.ReadFile<BridgeEvaluation>(path) : null;
    }

    public void Save(string runDir) => AtomicFile.WriteJson(Path.Combine(runDir, FileName), this);

    /// <summary>Measures every bridge of <paramref name="pair"/> on the first <paramref name="maxTokens"/> predicted tokens of <paramref name="split"/>.</summary>
    public static BridgeEvaluation Measure(BridgedPair pair, string? dataDir, CorpusSplit split, long maxTokens, int batchSize = 8, IProgressTask? progress = null)
    {
        var (shards, dir) = pair.Sparse.Shards(dataDir);
        using TokenShard shard = shards.Open(dir, split);
        SparseGpt sparse = pair.Sparse.Model, dense = pair.Dense.Model;
        (sparse.MatmulPrecision, dense.MatmulPrecision) = (MatmulPrecision.Fp32, MatmulPrecision.Fp32);
        int T = pair.Sparse.Config.Model.NCtx;
        IReadOnlyList<string> sites = pair.Bridges.Sites;
        var sums = sites.ToDictionary(s => s, _ => new double[6]);
        double denseSum = 0, sparseSum = 0;
        long tokens = 0;
        using var _ = no_grad();
        foreach (long[] windows in SequentialWindows.Batches(shard, batchSize, T, maxTokens))
        {
            using var scope = NewDisposeScope();
            int B = windows.Length / (T + 1);
            Tensor batch = tensor(windows).view(B, T + 1);
            Tensor x = batch.narrow(1, 0, T), y = batch.narrow(1, 1, T).reshape(-1);
            long n = (long)B * T;
            var denseHooks = new Hooks().Record(sites);
            var sparseHooks = new Hooks().Record(sites);
            Tensor denseLogits = dense.forward(x, denseHooks), sparseLogits = sparse.forward(x, sparseHooks);
            denseSum += CrossEntropy(denseLogits, y) * n;
            sparseSum += CrossEntropy(sparseLogits, y) * n;
            foreach (string site in sites)
            {
                using var siteScope = NewDisposeScope();
                Tensor encoded = pair.Bridges.Encode(site, denseHooks[site]), decoded = pair.Bridges.Decode(site, sparseHooks[site]);
                Tensor toSparse = sparse.ForwardFrom(site, encoded, x), toDense = dense.ForwardFrom(site, decoded, x);
                double[] s = sums[site];
                s[0] += BridgeLosses.Nmse(encoded, sparseHooks[site]).item<float>() * n;
                s[1] += BridgeLosses.Nmse(decoded, denseHooks[site]).item<float>() * n;
                s[2] += BridgeLosses.Kl(denseLogits, toSparse).item<float>() * n;
                s[3] += BridgeLosses.Kl(denseLogits, toDense).item<float>() * n;
                s[4] += CrossEntropy(toSparse, y) * n;
                s[5] += CrossEntropy(toDense, y) * n;
            }
            tokens += n;
            progress?.Advance(n);
        }
        if (tokens == 0) throw new SparseCircuitsException($"the {split} shard of {dir} is shorter than one window of {T + 1} tokens; nothing to evaluate");
        return new BridgeEvaluation(split.ToString().ToLowerInvariant(), tokens, denseSum / tokens, sparseSum / tokens,
            sites.Select(site => sums[site].Select(v => v / tokens).ToArray())
                .Zip(sites, (m, site) => new BridgeSiteQuality(site, m[0], m[1], m[2], m[3], m[4], m[5])).ToList());
    }

    static double CrossEntropy(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets).item<float>();
}

using System.Globalization;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using SparseCircuits.Training;

namespace SparseCircuits.Reports;

/// <summary>
/// Precomputes everything the HTML viewer shows (<see cref="ReportData"/>) for one trained model
/// and its circuits: model card and training curve, task table, one <see cref="CircuitView"/> per
/// circuit, pretraining-text profiles of every node some circuit keeps, and the embedding tab.
/// All activations come from the model's forward pass through hooks.
/// </summary>
public static class ReportBuilder
{
    public static ReportData Build(ReportOptions options, IProgressReporter progress)
    {
        options.Validate();
        string modelDir = Path.GetFullPath(options.ModelDir);
        if (!Directory.Exists(modelDir)) throw new SparseCircuitsException($"model directory not found: {modelDir}");
        CircuitCatalog catalog = CircuitCatalog.Find(options.CircuitsDir, modelDir);
        using var trained = TrainedModel.Load(modelDir, options.Checkpoint);
        CheckCircuitsMatch(trained, catalog);
        var tokenTexts = Enumerable.Range(0, trained.Tokenizer.VocabSize).Select(trained.Tokenizer.TokenText).ToList();

        var (shards, dataDir) = trained.Shards(options.ShardsDir);
        using var val = shards.Open(dataDir, CorpusSplit.Val);
        double? unigram = Unigram(shards, dataDir, val, trained);

        var circuits = new List<CircuitView>();
        if (catalog.Circuits.Count > 0)
        {
            using MeanActivations means = MeanCache.Load(ModelReference.Of(trained));
            using var bar = progress.Start("circuits", catalog.Circuits.Count, "circuits");
            foreach (CatalogEntry entry in catalog.Circuits)
            {
                bar.Status(entry.Id);
                circuits.Add(CircuitViewBuilder.Build(trained, means, entry, options, tokenTexts, progress));
                bar.Advance(1);
            }
        }

        var nodesByCircuit = catalog.Circuits.ToDictionary(c => c.Id, c => CircuitFile.NodeIds(c.Circuit));
        var profiled = nodesByCircuit.Values.SelectMany(n => n).Distinct().OrderBy(n => n.Layer).ThenBy(n => n.Location).ThenBy(n => n.Index).ToList();
        IReadOnlyDictionary<string, NodeProfile> profiles;
        int T = trained.Config.Model.NCtx;
        long profileTokens = Math.Min(Math.Max(1, options.ProfileTokens / T), Math.Max(0, (val.Length - 1) / T)) * T;
        using (var bar = progress.Start($"node profiles ({profiled.Count} nodes)", profiled.Count == 0 ? 0 : profileTokens, "tokens"))
            profiles = NodeProfiler.Profile(trained.Model, val, profiled, options.ProfileTokens, tokenTexts,
                new SnippetSettings(options.SnippetsPerBucket, options.SnippetBefore, options.SnippetAfter), options.Seed, bar);

        ModelCard card = ModelCardBuilder.Build(trained, unigram);
        return new ReportData
        {
            Title = options.Title ?? $"SparseCircuits report: {card.Name}",
            GeneratedAt = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ToolVersion = ToolVersions.Current().SparseCircuits,
            Model = card,
            TrainingCurve = TrainingCurve.Build(TrainingCurve.ReadMetrics(trained.Run.Path)),
            Tasks = TaskTable.Build(catalog),
            Circuits = circuits,
            NodeProfiles = profiles,
            Embeddings = EmbeddingViewBuilder.Build(trained.Model, tokenTexts, options.EmbeddingTokensPerSide,
                nodesByCircuit.ToDictionary(kv => kv.Key, kv => kv.Value)),
            Bridges = BridgesReportPage.TryBuild(trained.Run.Path),
        };
    }

    /// <summary>Every circuit must come from exactly the loaded weights (same checkpoint hash and shape).</summary>
    static void CheckCircuitsMatch(TrainedModel trained, CircuitCatalog catalog)
    {
        if (catalog.Circuits.Count == 0) return;
        ModelReference loaded = ModelReference.Of(trained);
        ModelConfig c = trained.Config.Model;
        foreach (CatalogEntry entry in catalog.Circuits)
        {
            CircuitModel m = entry.Circuit.Model;
            if (m.NLayer != c.NLayer || m.DModel != c.DModel || m.NHead != c.NHead || m.DHead != c.DHead || m.DMlp != c.MlpWidth)
                throw new SparseCircuitsException($"circuit {entry.File} was found in a model of another shape than {trained.Run.Path}");
            if (m.Source is { } source && source.CheckpointSha256 != loaded.CheckpointSha256)
                throw new SparseCircuitsException(
                    $"circuit {entry.File} was found in {source.RunDir} {source.Checkpoint} (step {source.Step}), not in the loaded {loaded.Checkpoint} (step {loaded.Step}); " +
                    "choose that checkpoint or pass the matching circuits directory");
        }
    }

    /// <summary>The add-one unigram baseline the trainer reports, on the same validation tokens (null without a train shard).</summary>
    static double? Unigram(ShardManifest shards, string dataDir, TokenShard val, TrainedModel trained)
    {
        if (!shards.Splits.ContainsKey(CorpusSplit.Train.ToString().ToLowerInvariant())) return null;
        using var train = shards.Open(dataDir, CorpusSplit.Train);
        var m = trained.Config.Model;
        return ReportNumbers.Known(LanguageModelEval.UnigramBaseline(train, val, m.VocabSize, m.NCtx, trained.Config.EvalTokens));
    }
}

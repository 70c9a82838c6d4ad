using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Training;

/// <summary>
/// Training presets named by purpose, sized for a 2-core CPU (docs/training.md has params,
/// nonzeros, tokens and measured wall time of each). Paper-scale presets are configs for bigger
/// machines.
/// </summary>
public static class TrainingPresets
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "small", "base", "paper-1x", "paper-2x", "paper-4x", "paper-8x", "paper-16x"];

    /// <summary>
    /// The preset as `circuits train` and `circuits run` start runs here: the fastest matmul
    /// precision of this machine (<see cref="MatmulPrecisions.Fastest"/>) and the batch split into
    /// one stream per libtorch thread (<see cref="StreamsFor"/>; docs/benchmarks.md).
    /// </summary>
    public static TrainingConfig ForThisMachine(string name, int vocabSize)
    {
        TrainingConfig config = Get(name, vocabSize);
        return config with { MatmulPrecision = MatmulPrecisions.Fastest(), Streams = StreamsFor(config.BatchSize, TorchRuntime.PlannedThreads()) };
    }

    /// <summary>
    /// The most streams (at most one per thread) that split the batch into equal parts: at the
    /// presets' narrow shapes, single-threaded passes side by side use the cores better than one
    /// multi-threaded pass (1.2-1.25x for <c>small</c> on 2 cores).
    /// </summary>
    public static int StreamsFor(int batchSize, int threads)
    {
        for (int streams = Math.Min(Math.Max(threads, 1), Math.Max(batchSize, 1)); streams > 1; streams--)
            if (batchSize % streams == 0) return streams;
        return 1;
    }

    public static TrainingConfig Get(string name, int vocabSize)
    {
        ModelConfig model = ModelPresets.Get(name, vocabSize);
        var common = new TrainingConfig { Preset = name, Model = model };
        return name switch
        {
            "tiny" => common with
            {
                BatchSize = 8, Steps = 200, LearningRate = 1e-2, WeightDensity = 0.25, EmbeddingDensity = 0.5,
                LogInterval = 5, EvalInterval = 50, EvalTokens = 4096, CheckpointInterval = 50,
            },
            "small" => common with { BatchSize = 16, Steps = 3000, LearningRate = 8e-3, WeightDensity = 0.1, EmbeddingDensity = 0.25 },
            "base" => common with { BatchSize = 16, Steps = 2500, LearningRate = 6e-3, WeightDensity = 0.05, EmbeddingDensity = 0.2, EvalInterval = 250, CheckpointInterval = 250 },
            // Paper scale: batch and steps are placeholders for a GPU cluster; densities follow the
            // paper's L0 of {0.9, 1.9, 3.7, 7.4, 14.8}M nonzeros at widths 256..4096.
            _ when name.StartsWith("paper-", StringComparison.Ordinal) => common with
            {
                BatchSize = 64, Steps = 100_000, LearningRate = 3e-3, EvalInterval = 1000, CheckpointInterval = 1000,
                WeightDensity = PaperDensity(model), EmbeddingDensity = Math.Min(1, 4 * PaperDensity(model)),
                AnnealFraction = model.DModel >= 2048 ? 0.8 : 0.5,
            },
            _ => throw new SparseCircuitsException($"unknown preset '{name}'; choose one of {string.Join(", ", Names)}"),
        };
    }

    /// <summary>The paper's nonzero budget spread over the model's matrices.</summary>
    static double PaperDensity(ModelConfig model)
    {
        double nonzeros = model.DModel switch { 256 => 0.9e6, 512 => 1.9e6, 1024 => 3.7e6, 2048 => 7.4e6, _ => 14.8e6 };
        double matrixParams = model.NLayer * (4.0 * model.DModel * model.DModel + 2.0 * model.DModel * model.MlpWidth);
        return Math.Clamp(nonzeros / matrixParams, 1e-4, 1);
    }
}

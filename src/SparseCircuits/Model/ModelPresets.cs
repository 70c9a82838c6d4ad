using SparseCircuits.Core;

namespace SparseCircuits.Model;

/// <summary>A named model size and what it is for.</summary>
public sealed record ModelPreset(string Name, string Purpose, ModelConfig Config)
{
    /// <summary>The preset's config with the tokenizer's vocabulary size, validated.</summary>
    public ModelConfig For(int vocabSize) => Config.WithVocab(vocabSize).Validate();
}

/// <summary>
/// Model sizes by purpose. All keep the paper's d_head 16, d_mlp 4*d_model, RMSNorm, GELU and
/// released-model activation sparsity; only depth, width, context and positions differ. `small`
/// rotates q and k (rotary positions, beyond the paper, which uses none): measured in three runs (two seeds)
/// as the largest gain of any single setting for the task suite (docs/training.md, sessions 9-10).
/// The others keep the paper's no positional embedding. vocab_size is left unset (0): it comes
/// from the tokenizer via <see cref="Get"/>.
/// </summary>
public static class ModelPresets
{
    public static ModelPreset Tiny { get; } = new("tiny", "unit tests and smoke runs (seconds)",
        new ModelConfig { NLayer = 2, DModel = 32, NCtx = 64 });

    public static ModelPreset Small { get; } = new("small", "default demo: a few thousand steps of 16x256 tokens in 10-20 min on 2 CPU cores",
        new ModelConfig { NLayer = 4, DModel = 128, NCtx = 256, PositionalEmbedding = PositionalEmbedding.Rotary });

    public static ModelPreset Base { get; } = new("base", "about an hour on 2 CPU cores; paper depth at reduced width",
        new ModelConfig { NLayer = 8, DModel = 192, NCtx = 256 });

    /// <summary>The paper's width sweep: 8 layers, d_model 256 * N. Configs only: far beyond a CPU.</summary>
    public static ModelPreset Paper(int widthMultiplier) => widthMultiplier is 1 or 2 or 4 or 8 or 16
        ? new($"paper-{widthMultiplier}x", $"paper scale, {widthMultiplier}x width (config only; needs a GPU cluster)",
            new ModelConfig { NLayer = 8, DModel = 256 * widthMultiplier, NCtx = 256 })
        : throw new SparseCircuitsException($"paper width multiplier must be 1, 2, 4, 8 or 16; got {widthMultiplier}");

    /// <summary>Every preset, smallest first.</summary>
    public static IReadOnlyList<ModelPreset> All { get; } =
        [Tiny, Small, Base, Paper(1), Paper(2), Paper(4), Paper(8), Paper(16)];

    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToList();

    /// <summary>The preset called <paramref name="name"/> with the tokenizer's vocabulary size.</summary>
    public static ModelConfig Get(string name, int vocabSize) =>
        (All.FirstOrDefault(p => p.Name == name)
            ?? throw new SparseCircuitsException($"unknown model preset '{name}'; choose one of {string.Join(", ", Names)}"))
        .For(vocabSize);
}

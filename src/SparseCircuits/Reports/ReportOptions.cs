using SparseCircuits.Core;
using SparseCircuits.Training;

namespace SparseCircuits.Reports;

/// <summary>
/// What <see cref="ReportBuilder.Build"/> reads and how much work it does. Defaults are sized so the
/// <c>small</c> model with a handful of circuits builds in about a minute on 2 cores.
/// </summary>
public sealed record ReportOptions
{
    /// <summary>A training run directory (<c>config.json</c>, <c>checkpoints/</c>, <c>tokenizer/</c>).</summary>
    public required string ModelDir { get; init; }
    /// <summary>
    /// Circuits to show: a directory with <c>summary.json</c> and <c>NAME/circuit.json</c> (as
    /// <c>circuits prune --all-tasks</c> writes), a directory holding one <c>circuit.json</c>, or one
    /// whose subdirectories hold them. Null: <c>&lt;model&gt;/../circuits</c> (the <c>circuits run</c>
    /// layout) or <c>&lt;model&gt;/circuits</c> (the <c>circuits prune</c> default) when it exists, else none.
    /// </summary>
    public string? CircuitsDir { get; init; }
    public CheckpointChoice Checkpoint { get; init; } = CheckpointChoice.Best;
    /// <summary>Shards to read the validation split from; null: the run manifest's data directory.</summary>
    public string? ShardsDir { get; init; }
    /// <summary>Pretraining validation tokens scanned for node profiles (whole context windows, at least one).</summary>
    public long ProfileTokens { get; init; } = 32_768;
    public int SnippetsPerBucket { get; init; } = 3;
    /// <summary>Tokens shown before and after a snippet's focus token (clipped at its context window).</summary>
    public int SnippetBefore { get; init; } = 12;
    public int SnippetAfter { get; init; } = 4;
    /// <summary>Contrast pairs shown token by token per node.</summary>
    public int PairsPerClass { get; init; } = 4;
    /// <summary>Prompt tokens shown per pair (the last ones).</summary>
    public int PromptTokensShown { get; init; } = 40;
    /// <summary>
    /// Test prompts the per-node and per-layer ablation losses and class means are measured on
    /// (the first ones). The per-node losses cost one forward pass over them per node and
    /// dominate the build: about 0.2 s per node at 32 prompts for <c>small</c> on a busy 2-core machine.
    /// </summary>
    public int AblationPrompts { get; init; } = 32;
    /// <summary>Query and key positions of the rebuilt attention patterns (the last ones of the prompt).</summary>
    public int AttentionWindow { get; init; } = 24;
    public int EmbeddingTokensPerSide { get; init; } = 10;
    /// <summary>Chooses snippets among the positions of a bucket.</summary>
    public ulong Seed { get; init; }
    /// <summary>Shown as the page title; null: "SparseCircuits report: MODEL".</summary>
    public string? Title { get; init; }

    /// <summary>Returns these options, or throws naming the first bad field and its allowed range.</summary>
    public ReportOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelDir)) throw new SparseCircuitsException("report options: model_dir is required");
        if (CircuitsDir is not null && string.IsNullOrWhiteSpace(CircuitsDir)) Fail("circuits_dir", "a directory or null", "\"\"");
        if (ShardsDir is not null && string.IsNullOrWhiteSpace(ShardsDir)) Fail("shards_dir", "a directory or null", "\"\"");
        if (ProfileTokens < 1) Fail("profile_tokens", ">= 1", ProfileTokens);
        if (SnippetsPerBucket < 0) Fail("snippets_per_bucket", ">= 0", SnippetsPerBucket);
        if (SnippetBefore < 0) Fail("snippet_before", ">= 0", SnippetBefore);
        if (SnippetAfter < 0) Fail("snippet_after", ">= 0", SnippetAfter);
        if (PairsPerClass < 0) Fail("pairs_per_class", ">= 0", PairsPerClass);
        if (PromptTokensShown < 1) Fail("prompt_tokens_shown", ">= 1", PromptTokensShown);
        if (AblationPrompts < 1) Fail("ablation_prompts", ">= 1", AblationPrompts);
        if (AttentionWindow < 1) Fail("attention_window", ">= 1", AttentionWindow);
        if (EmbeddingTokensPerSide < 1) Fail("embedding_tokens_per_side", ">= 1", EmbeddingTokensPerSide);
        return this;

        static void Fail(string field, string range, object value) =>
            throw new SparseCircuitsException($"report options: {field} must be {range}; got {value}");
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>How pairs are turned into token ids.</summary>
public sealed record TaskDatasetOptions
{
    /// <summary>How much code surrounds the cue in built-in tasks (the paper's short snippets by default).</summary>
    public PromptContext Context { get; init; } = PromptContext.Short;

    /// <summary>Longest prompt kept, in tokens (including the leading end-of-text token); longer pairs are dropped and counted.</summary>
    public int MaxPromptTokens { get; init; } = 256;

    /// <summary>
    /// Start every text prompt with <c>&lt;|endoftext|&gt;</c>, as every document in the training
    /// shards is preceded by one. Prompts given as token ids are used exactly as written.
    /// </summary>
    public bool PrependEndOfText { get; init; } = true;

    /// <summary>
    /// A built-in task whose share of usable pairs (after at least <see cref="MinCandidates"/>
    /// tries) falls below this is reported unavailable for the tokenizer.
    /// </summary>
    public double MinYield { get; init; } = 0.5;

    public int MinCandidates { get; init; } = 100;

    public TaskDatasetOptions Validate()
    {
        if (MaxPromptTokens < 2) throw new SparseCircuitsException($"max prompt tokens must be >= 2 (got {MaxPromptTokens})");
        if (MinYield is < 0 or > 1 || double.IsNaN(MinYield)) throw new SparseCircuitsException($"min yield must be in [0, 1] (got {MinYield})");
        if (!Enum.IsDefined(Context)) throw new SparseCircuitsException($"prompt context must be short or scaffold (got {(int)Context})");
        if (MinCandidates < 1) throw new SparseCircuitsException($"min candidates must be >= 1 (got {MinCandidates})");
        return this;
    }
}

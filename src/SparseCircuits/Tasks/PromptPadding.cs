namespace SparseCircuits.Tasks;

/// <summary>
/// Prompts of different lengths as one right-padded (rows, T) block for a single forward pass.
/// Padding sits after each prompt's last token, so with causal attention it cannot change the
/// logits read at that token. Shared by task evaluation and pruning.
/// </summary>
public static class PromptPadding
{
    /// <param name="padId">the id written after a prompt; null repeats the prompt's own last token</param>
    /// <returns>row-major tokens (rows * T), each row's last prompt position, and T</returns>
    public static (long[] Tokens, long[] LastPosition, int Width) Pad(IReadOnlyList<int[]> prompts, int? padId)
    {
        if (prompts.Count == 0) throw new ArgumentException("a batch needs at least one prompt", nameof(prompts));
        int T = prompts.Max(p => p.Length);
        var tokens = new long[prompts.Count * T];
        var last = new long[prompts.Count];
        for (int row = 0; row < prompts.Count; row++)
        {
            int[] prompt = prompts[row];
            long pad = padId ?? prompt[^1];
            for (int t = 0; t < T; t++) tokens[row * T + t] = t < prompt.Length ? prompt[t] : pad;
            last[row] = prompt.Length - 1;
        }
        return (tokens, last, T);
    }
}

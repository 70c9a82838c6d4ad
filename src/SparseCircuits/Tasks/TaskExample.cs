namespace SparseCircuits.Tasks;

/// <summary>
/// One prompt of a binary next-token task: after <paramref name="PromptIds"/> the model should
/// prefer <paramref name="CorrectId"/> over <paramref name="WrongId"/>. Everything that scores a
/// task (<c>tasks eval</c>, pruning, validation, the report) works on these.
/// </summary>
public sealed record TaskExample(int[] PromptIds, int CorrectId, int WrongId)
{
    /// <summary>
    /// The two prompts of every contrast pair, in pair order: index 2i is pair i's positive prompt
    /// (its answer is tok, class 0), 2i+1 its negative (answer alt, class 1).
    /// </summary>
    public static List<TaskExample> FromPairs(IEnumerable<EncodedPair> pairs) =>
        pairs.SelectMany(p => new[] { new TaskExample(p.Positive, p.TokId, p.AltId), new TaskExample(p.Negative, p.AltId, p.TokId) }).ToList();
}

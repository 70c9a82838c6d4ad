namespace SparseCircuits.Tasks;

/// <summary>
/// How a model does on a task. <see cref="Loss"/> is the binary cross-entropy over {tok, alt} at
/// the last position, averaged over both prompts of every pair (nats). The official code sums
/// the two prompts of a pair, which is <see cref="OfficialLoss"/> = 2 x <see cref="Loss"/>.
/// </summary>
/// <param name="Accuracy">share of prompts where the correct one of tok/alt has the higher logit (ties count as wrong)</param>
/// <param name="LogitDiff">mean correct-minus-wrong logit difference over prompts</param>
public sealed record TaskScore(string Task, int Pairs, double Loss, double Accuracy, double LogitDiff)
{
    public const double SolvedAccuracy = 0.9;
    /// <summary>The paper's target task loss for circuits, also the bar for "solved".</summary>
    public const double SolvedLoss = 0.15;

    public double OfficialLoss => 2 * Loss;

    /// <summary>Accuracy at least 0.9 and loss at most 0.15 (docs/method.md's pruning target).</summary>
    public bool Solved => Accuracy >= SolvedAccuracy && Loss <= SolvedLoss;
}

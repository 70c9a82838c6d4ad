using System.Text.Json.Serialization;

namespace SparseCircuits.Tasks;

/// <summary>
/// How a model (or a circuit) does on task prompts: mean <see cref="TaskLoss"/> (nats), the share
/// of prompts whose correct answer has the higher logit (ties count as wrong), the number of
/// prompts, and the mean correct-minus-wrong logit difference. The official code sums the two
/// prompts of a pair, which is <see cref="OfficialLoss"/> = 2 x <see cref="Loss"/>.
/// </summary>
public sealed record TaskScore(double Loss, double Accuracy, int Prompts, double LogitDiff = 0)
{
    public const double SolvedAccuracy = 0.9;
    /// <summary>The paper's target task loss for circuits, also the bar for "solved".</summary>
    public const double SolvedLoss = 0.15;

    /// <summary>Contrast pairs scored (two prompts each).</summary>
    [JsonIgnore] public int Pairs => Prompts / 2;

    [JsonIgnore] public double OfficialLoss => 2 * Loss;

    /// <summary>Accuracy at least 0.9 and loss at most 0.15 (docs/method.md's pruning target).</summary>
    [JsonIgnore] public bool Solved => Accuracy >= SolvedAccuracy && Loss <= SolvedLoss;
}

/// <summary>
/// A task's score over all prompts and over each side of the pairs alone: a model that gives the
/// same answer to every prompt is right on one side and wrong on the other, which the overall
/// accuracy of about 0.5 does not show.
/// </summary>
public sealed record SidedTaskScore(TaskScore All, TaskScore Positive, TaskScore Negative);

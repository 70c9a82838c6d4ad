using SparseCircuits.Core;
using System.Text.Json.Serialization;

namespace SparseCircuits.Training;

/// <summary>
/// Everything besides tensors that a resumed run needs to continue exactly where it stopped;
/// stored as <c>trainer_state.json</c> in each checkpoint.
/// </summary>
/// <param name="Step">optimizer steps completed</param>
/// <param name="TokensSeen">training tokens consumed so far</param>
/// <param name="SamplerRngState">
/// the batch sampler's <see cref="SplitMix64.State"/>; written as a decimal string because JSON
/// readers that hold numbers as doubles (JavaScript, jq) would round a 64-bit value
/// </param>
/// <param name="BestValLoss">the trainer's best validation loss so far, if any</param>
/// <param name="TorchRngState">a <see cref="Training.TorchRngState.Capture"/> string, if the run draws from torch</param>
/// <param name="Extra">free-form values the trainer wants back on resume</param>
/// <param name="ConfigSha256">SHA-256 of the checkpoint's config.json; set by <see cref="CheckpointStore.Save"/></param>
public sealed record TrainerState(
    long Step,
    long TokensSeen,
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] ulong SamplerRngState,
    double? BestValLoss = null,
    string? TorchRngState = null,
    IReadOnlyDictionary<string, string>? Extra = null,
    string? ConfigSha256 = null)
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
}

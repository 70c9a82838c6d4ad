using System.ComponentModel;
using System.Globalization;
using SparseCircuits.Core;

namespace SparseCircuits.Training;

/// <summary>
/// Which checkpoint of a run to load: the best by validation loss (the default), the latest, or
/// the one saved at a given step (for learning curves and circuits across training). Written
/// <c>best</c>, <c>latest</c>, <c>step_001750</c> or <c>1750</c>.
/// </summary>
[TypeConverter(typeof(CheckpointChoiceConverter))]
public readonly record struct CheckpointChoice
{
    /// <summary>The step asked for; null for best or latest.</summary>
    public long? Step { get; }
    readonly bool _latest;

    CheckpointChoice(bool latest, long? step) => (_latest, Step) = (latest, step);

    public static CheckpointChoice Best => default;
    public static CheckpointChoice Latest => new(latest: true, step: null);
    public static CheckpointChoice AtStep(long step) =>
        step >= 0 ? new(latest: false, step) : throw new SparseCircuitsException($"a checkpoint step must be >= 0 (got {step})");

    public static CheckpointChoice Parse(string text)
    {
        string value = text.Trim().ToLowerInvariant();
        if (value == "best") return Best;
        if (value == "latest") return Latest;
        string digits = value.StartsWith("step_", StringComparison.Ordinal) ? value["step_".Length..] : value;
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long step)
            ? AtStep(step)
            : throw new SparseCircuitsException($"a checkpoint is best, latest or a step (e.g. 1750 or step_001750), not '{text}'");
    }

    /// <summary>The chosen checkpoint, or null when the run has no complete one; a step the run did not keep is an error naming the ones it has.</summary>
    public CheckpointInfo? Find(CheckpointStore store)
    {
        if (Step is not long step) return _latest ? store.Latest() : store.Best() ?? store.Latest();
        var all = store.List();
        return all.FirstOrDefault(c => c.Step == step) ?? throw new SparseCircuitsException(
            $"{store.Root} has no complete checkpoint at step {step}; it has " +
            (all.Count == 0 ? "none" : string.Join(", ", all.Select(c => c.Step.ToString(CultureInfo.InvariantCulture)))));
    }

    public override string ToString() => Step is long step ? CheckpointStore.DirectoryName(step) : _latest ? "latest" : "best";
}

/// <summary>Lets the command line (and anything using <see cref="TypeDescriptor"/>) read a <see cref="CheckpointChoice"/> from text.</summary>
public sealed class CheckpointChoiceConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? CheckpointChoice.Parse(text) : base.ConvertFrom(context, culture, value);
}

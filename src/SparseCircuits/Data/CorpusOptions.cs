using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>How a corpus is built. Defaults: the machine's Python standard library, 98/1/1 split, 1 MiB cap.</summary>
public sealed record CorpusOptions
{
    /// <summary>Directories (searched recursively for *.py) or single .py files. Empty: the Python standard library.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Files larger than this are skipped (generated tables, vendored blobs).</summary>
    public long MaxFileBytes { get; init; } = 1 << 20;

    public double TrainFraction { get; init; } = 0.98;
    public double ValFraction { get; init; } = 0.01;
    public double TestFraction => 1 - TrainFraction - ValFraction;

    public void Validate()
    {
        if (MaxFileBytes < 1) throw new SparseCircuitsException($"max file size must be >= 1 byte (got {MaxFileBytes})");
        if (TrainFraction is <= 0 or > 1) throw new SparseCircuitsException($"train fraction must be in (0, 1] (got {TrainFraction})");
        if (ValFraction is < 0 or >= 1) throw new SparseCircuitsException($"val fraction must be in [0, 1) (got {ValFraction})");
        if (TrainFraction + ValFraction > 1 + 1e-12)
            throw new SparseCircuitsException($"train + val fractions must be <= 1 (got {TrainFraction} + {ValFraction})");
    }

    /// <summary>Parses "98/1/1" (percent or any positive weights) into fractions.</summary>
    public static (double Train, double Val) ParseSplit(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length != 3 || !parts.All(p => double.TryParse(p, System.Globalization.CultureInfo.InvariantCulture, out double v) && v >= 0))
            throw new SparseCircuitsException($"--split must look like 98/1/1 (three non-negative numbers), got '{text}'");
        double[] w = parts.Select(p => double.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        double sum = w.Sum();
        if (sum <= 0 || w[0] <= 0) throw new SparseCircuitsException($"--split needs a positive train share, got '{text}'");
        return (w[0] / sum, w[1] / sum);
    }
}

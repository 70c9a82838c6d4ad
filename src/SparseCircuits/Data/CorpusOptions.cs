using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>How a corpus is built. Defaults: the machine's Python standard library, 98/1/1 split, 1 MiB cap.</summary>
public sealed record CorpusOptions
{
    /// <summary>Directories (searched recursively for *.py) or single .py files. Empty: the Python standard library.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Files larger than this are skipped (generated tables, vendored blobs).</summary>
    public long MaxFileBytes { get; init; } = 1 << 20;

    /// <summary>
    /// UTF-8 bytes of generated simple Python (<see cref="SyntheticPython"/>) added next to the
    /// real files; 0 = none. Its documents are named <c>&lt;synthetic&gt;/NNNNNNN.py</c> and split by path
    /// hash like every file.
    /// </summary>
    public long SyntheticBytes { get; init; }

    /// <summary>Seed of the synthetic programs.</summary>
    public ulong SyntheticSeed { get; init; }

    /// <summary>Leave the real files out (the default standard library included): a corpus of synthetic programs only.</summary>
    public bool SyntheticOnly { get; init; }

    public double TrainFraction { get; init; } = 0.98;
    public double ValFraction { get; init; } = 0.01;
    public double TestFraction => 1 - TrainFraction - ValFraction;

    public void Validate()
    {
        if (SyntheticBytes < 0) throw new SparseCircuitsException($"synthetic size must be >= 0 bytes (got {SyntheticBytes})");
        if (SyntheticOnly && SyntheticBytes == 0) throw new SparseCircuitsException("a synthetic-only corpus needs a synthetic size > 0 (--synthetic 20MB)");
        if (SyntheticOnly && Sources.Count > 0) throw new SparseCircuitsException("--synthetic-only takes no --source");
        if (MaxFileBytes < 1) throw new SparseCircuitsException($"max file size must be >= 1 byte (got {MaxFileBytes})");
        if (TrainFraction is <= 0 or > 1) throw new SparseCircuitsException($"train fraction must be in (0, 1] (got {TrainFraction})");
        if (ValFraction is < 0 or >= 1) throw new SparseCircuitsException($"val fraction must be in [0, 1) (got {ValFraction})");
        if (TrainFraction + ValFraction > 1 + 1e-12)
            throw new SparseCircuitsException($"train + val fractions must be <= 1 (got {TrainFraction} + {ValFraction})");
    }

    /// <summary>Parses a size such as "50MB", "512kB", "1.5GB" or a plain byte count (decimal units: 1 MB = 10^6 bytes).</summary>
    public static long ParseSize(string text)
    {
        string t = text.Trim();
        int split = t.Length;
        while (split > 0 && char.IsLetter(t[split - 1])) split--;
        double factor = t[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1, "KB" => 1e3, "MB" => 1e6, "GB" => 1e9,
            _ => double.NaN,
        };
        if (double.IsNaN(factor) || !double.TryParse(t[..split], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double number)
            || number < 0 || double.IsInfinity(number))
            throw new SparseCircuitsException($"size must look like 50MB, 512kB or 1000000 (got '{text}')");
        return (long)Math.Round(number * factor);
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

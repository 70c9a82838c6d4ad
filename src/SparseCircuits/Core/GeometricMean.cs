namespace SparseCircuits.Core;

/// <summary>The paper's summary of circuit sizes over tasks.</summary>
public static class GeometricMean
{
    /// <summary>
    /// exp(mean(log x)); null for no values. A zero gives 0 (adding 1 inside the log would hide
    /// zero-size circuits and bias small ones).
    /// </summary>
    public static double? Of(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0) return null;
        if (list.Any(v => v < 0)) throw new ArgumentOutOfRangeException(nameof(values), "a geometric mean needs values >= 0");
        return list.Any(v => v == 0) ? 0 : Math.Exp(list.Average(Math.Log));
    }
}

namespace SparseCircuits.Reports;

/// <summary>
/// Rounding for the report's JSON: activations to 3 significant digits keep the page a few MB;
/// losses and weights keep 5. Both map non-finite values to null, never NaN (JSON.parse rejects it).
/// </summary>
public static class ReportNumbers
{
    /// <summary>An activation for display: 3 significant digits (non-finite becomes 0, which a forward pass never produces).</summary>
    public static float Activation(double value) => double.IsFinite(value) ? (float)Significant(value, 3) : 0f;

    /// <summary>A loss, weight or statistic: 5 significant digits.</summary>
    public static double Value(double value) => double.IsFinite(value) ? Significant(value, 5) : throw new ArgumentException($"{value} is not a finite number", nameof(value));

    /// <summary>Like <see cref="Value"/>, with null for a number that is unknown (NaN or infinite).</summary>
    public static double? Known(double? value) => value is double v && double.IsFinite(v) ? Significant(v, 5) : null;

    public static float[] Activations(ReadOnlySpan<float> values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = Activation(values[i]);
        return result;
    }

    static double Significant(double value, int digits)
    {
        if (value == 0) return 0;
        int decimals = digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value)));
        return decimals is >= 0 and <= 15 ? Math.Round(value, decimals) : RoundLarge(value, decimals);
    }

    /// <summary>Math.Round takes 0..15 decimals only; very small or very large values scale instead.</summary>
    static double RoundLarge(double value, int decimals)
    {
        double scale = Math.Pow(10, decimals);
        double rounded = Math.Round(value * scale) / scale;
        return double.IsFinite(rounded) ? rounded : value;
    }
}

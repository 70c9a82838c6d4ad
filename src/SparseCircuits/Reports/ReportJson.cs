using System.Text.Json;
using System.Text.Json.Serialization;
using SparseCircuits.Core;

namespace SparseCircuits.Reports;

/// <summary>
/// <see cref="ReportData"/> as the page embeds it: Core.Json.Compact (snake_case, one line) except
/// that non-finite numbers are an error instead of NaN / Infinity literals, which JSON.parse rejects.
/// </summary>
public static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new(Json.Compact) { NumberHandling = JsonNumberHandling.Strict };

    public static string Serialize(ReportData report) => JsonSerializer.Serialize(report, Options);

    public static ReportData Deserialize(string json) =>
        JsonSerializer.Deserialize<ReportData>(json, Options) ?? throw new SparseCircuitsException("the report JSON is empty");
}

using System.Text.Json;
using System.Text.Json.Nodes;
using SparseCircuits.Core;

namespace SparseCircuits.Training;

/// <summary>
/// One line of <c>metrics.jsonl</c>. Optional fields appear only on the steps that compute them;
/// <paramref name="Terms"/> are the named parts of the training loss when it has several (bridges).
/// </summary>
public sealed record StepMetrics(
    long Step,
    long Tokens,
    double TrainLoss,
    double LearningRate,
    double GradRms,
    double TargetDensity,
    double? ValLoss = null,
    double? TokensPerSecond = null,
    IReadOnlyDictionary<string, double>? Density = null,
    IReadOnlyDictionary<string, double>? Terms = null);

/// <summary>
/// Appends <see cref="StepMetrics"/> as JSON lines. On resume the lines after the checkpoint's step
/// are dropped first, so the file always describes one consistent run.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string FileName = "metrics.jsonl";
    static readonly JsonSerializerOptions LineOptions = new(Json.Compact) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    readonly StreamWriter _writer;

    public MetricsLog(string runDir, long resumeStep)
    {
        string path = Path.Combine(runDir, FileName);
        if (File.Exists(path))
        {
            var kept = File.ReadLines(path).Where(line => line.Length > 0 && StepOf(line) is long s && s <= resumeStep).ToList();
            AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        }
        _writer = new StreamWriter(path, append: true) { NewLine = "\n", AutoFlush = false };
    }

    static long? StepOf(string line)
    {
        try { return JsonNode.Parse(line)?["step"]?.GetValue<long>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; } // a line torn by a kill
    }

    public void Write(StepMetrics metrics) => _writer.WriteLine(JsonSerializer.Serialize(metrics, LineOptions));

    public void Flush() => _writer.Flush();

    public static IReadOnlyList<StepMetrics> Read(string runDir) =>
        File.ReadLines(Path.Combine(runDir, FileName)).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<StepMetrics>(l, Json.Options)!).ToList();

    public void Dispose() => _writer.Dispose();
}

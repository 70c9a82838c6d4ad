using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparseCircuits.Core;

/// <summary>One JSON convention for every file we write: snake_case names (Python-friendly), indented.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // Keep quotes and non-ASCII readable in corpus lines and configs; we never embed JSON in HTML unescaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Same conventions on one line, for JSON-lines files.</summary>
    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads a JSON file we wrote; a missing or malformed file is a user error naming the file.</summary>
    public static T ReadFile<T>(string path)
    {
        if (!File.Exists(path)) throw new SparseCircuitsException($"file not found: {path}");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                ?? throw new SparseCircuitsException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new SparseCircuitsException($"{path} is not valid JSON for this file: {e.Message}");
        }
    }
}

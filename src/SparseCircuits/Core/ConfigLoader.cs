using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SparseCircuits.Core;

/// <summary>
/// Builds a config record from defaults, an optional JSON file and <c>field.sub=value</c>
/// overrides, in that order. Field names are the snake_case JSON names; an unknown name or a
/// value of the wrong type is a user error that names the field.
/// </summary>
public static class ConfigLoader
{
    public static T Load<T>(T defaults, string? jsonFile, IEnumerable<string> overrides)
    {
        JsonObject? fileObject = null;
        if (jsonFile is not null)
        {
            if (!File.Exists(jsonFile)) throw new SparseCircuitsException($"config file not found: {jsonFile}");
            JsonNode? file;
            try { file = JsonNode.Parse(File.ReadAllText(jsonFile)); }
            catch (JsonException e) { throw new SparseCircuitsException($"config file {jsonFile} is not valid JSON: {e.Message}"); }
            fileObject = file as JsonObject ?? throw new SparseCircuitsException($"config file {jsonFile} must hold a JSON object");
        }
        return Load(defaults, fileObject is null ? [] : [fileObject], overrides);
    }

    /// <summary>Defaults, then each JSON object of <paramref name="patches"/> merged in order, then the overrides.</summary>
    public static T Load<T>(T defaults, IEnumerable<JsonObject> patches, IEnumerable<string> overrides)
    {
        JsonObject tree = JsonSerializer.SerializeToNode(defaults, EveryField)!.AsObject();
        foreach (JsonObject patch in patches) Merge(tree, patch, "");
        foreach (string assignment in overrides) Set(tree, assignment);
        try
        {
            return tree.Deserialize<T>(Json.Options) ?? throw new SparseCircuitsException("config is empty");
        }
        catch (JsonException e)
        {
            string field = e.Path?.TrimStart('$', '.') ?? "?";
            JsonNode? original = Find(JsonSerializer.SerializeToNode(defaults, EveryField), field), given = Find(tree, field);
            throw new SparseCircuitsException($"config field {field} must be {Describe(original)} (got {given?.ToJsonString() ?? "null"})");
        }
    }

    /// <summary>
    /// <see cref="Json.Options"/>, but writing fields that are left out of files when null (so
    /// that adding one does not change existing configs or their hashes): the tree of known field
    /// names must still contain them.
    /// </summary>
    static readonly JsonSerializerOptions EveryField = new(Json.Options)
    {
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver
        {
            Modifiers = { type => { foreach (var property in type.Properties) property.ShouldSerialize = null; } },
        },
    };

    static JsonNode? Find(JsonNode? node, string path)
    {
        foreach (string part in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        return node;
    }

    /// <summary>What kind of value a field takes, read from its default.</summary>
    static string Describe(JsonNode? example) => example?.GetValueKind() switch
    {
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "true or false",
        JsonValueKind.String => "text",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => "a value of its type",
    };

    static void Merge(JsonObject target, JsonObject source, string prefix)
    {
        foreach (var (key, value) in source)
        {
            if (!target.ContainsKey(key))
                throw new SparseCircuitsException($"unknown config field '{prefix}{key}'; known: {string.Join(", ", target.Select(kv => kv.Key))}");
            if (value is JsonObject sub && target[key] is JsonObject existing) Merge(existing, sub, $"{prefix}{key}.");
            else target[key] = value?.DeepClone();
        }
    }

    /// <summary>Applies "a.b=value"; the value is read as JSON (number, true, null, "text") or else as a plain string.</summary>
    static void Set(JsonObject tree, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new SparseCircuitsException($"--set needs field=value, got '{assignment}'");
        string[] path = assignment[..eq].Trim().Split('.');
        string text = assignment[(eq + 1)..].Trim();
        JsonObject node = tree;
        for (int i = 0; i < path.Length - 1; i++)
        {
            if (node[path[i]] is not JsonObject child)
                throw new SparseCircuitsException($"unknown config field '{string.Join('.', path[..(i + 1)])}' in --set {assignment}");
            node = child;
        }
        string leaf = path[^1];
        if (!node.ContainsKey(leaf))
            throw new SparseCircuitsException($"unknown config field '{assignment[..eq].Trim()}'; known here: {string.Join(", ", node.Select(kv => kv.Key))}");
        node[leaf] = ParseValue(text);
    }

    static JsonNode? ParseValue(string text)
    {
        if (text == "null") return null;
        if (text is "true" or "false") return JsonValue.Create(text == "true");
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return JsonNode.Parse(text.StartsWith('.') ? "0" + text : text.StartsWith("-.") ? "-0" + text[1..] : text);
        try { return JsonNode.Parse(text); }
        catch (JsonException) { return JsonValue.Create(text); }
    }
}

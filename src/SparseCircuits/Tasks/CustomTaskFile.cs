using System.Text;
using System.Text.Json;
using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>One line of a custom task file: its line number, split, and the pair as text or as token ids.</summary>
public sealed record CustomPair(int Line, TaskSplit Split, ContrastPair? Text, EncodedPair? Ids);

/// <summary>
/// Custom tasks as JSON lines, one contrast pair per line, in one of two forms:
/// <code>
/// {"positive": "x = [[1, 2", "negative": "x = [1, 2", "tok": "]]\n", "alt": "]\n", "split": "test"}
/// {"positive_ids": [87, 1009, 12], "negative_ids": [87, 1010, 12], "tok_id": 93, "alt_id": 94}
/// </code>
/// Text prompts are encoded with the model's tokenizer and checked like built-in pairs (tok and
/// alt are answer texts whose first token is the answer). Id prompts are used exactly as
/// written (no end-of-text token is added). <c>split</c> is optional: train, val or test; a line
/// without it is a test pair. Blank lines are skipped; anything else malformed is an error
/// naming the file, the line and the problem.
/// </summary>
public static class CustomTaskFile
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static readonly string[] TextFields = ["positive", "negative", "tok", "alt"];
    static readonly string[] IdFields = ["positive_ids", "negative_ids", "tok_id", "alt_id"];
    const string SplitField = "split";

    /// <summary>Reads and validates every line (token ids are checked against a vocabulary later, by <see cref="TaskDataset.FromFile"/>).</summary>
    public static IReadOnlyList<CustomPair> Read(string path)
    {
        if (!File.Exists(path)) throw new SparseCircuitsException($"file not found: {path}");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Validates every line of <paramref name="bytes"/>; errors name <paramref name="source"/> and the line.</summary>
    public static IReadOnlyList<CustomPair> Parse(byte[] bytes, string source)
    {
        var pairs = new List<CustomPair>();
        int lineNumber = 0;
        string text;
        try { text = StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            // Like every other text input: invalid UTF-8 is refused, not silently replaced by U+FFFD.
            int line = e.Index < 0 ? 0 : bytes.AsSpan(0, e.Index).Count((byte)'\n') + 1;
            throw new SparseCircuitsException($"{source}:{line}: not valid UTF-8");
        }
        if (text.StartsWith('\uFEFF')) text = text[1..];
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            pairs.Add(ParseLine(raw, lineNumber, source));
        }
        if (pairs.Count == 0) throw new SparseCircuitsException($"{source} holds no pairs (expected one JSON object per line)");
        return pairs;
    }

    static CustomPair ParseLine(string line, int number, string path)
    {
        SparseCircuitsException Error(string problem) => new($"{path}:{number}: {problem}");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw Error($"not valid JSON: {OneLine(e.Message)}");
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Error($"expected a JSON object, got {root.ValueKind.ToString().ToLowerInvariant()}");
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (!TextFields.Contains(property.Name) && !IdFields.Contains(property.Name) && property.Name != SplitField)
                    throw Error($"unknown field '{property.Name}' (expected {string.Join(", ", TextFields)} or {string.Join(", ", IdFields)}, and optionally split)");
                if (!fields.TryAdd(property.Name, property.Value)) throw Error($"field '{property.Name}' appears twice");
            }

            TaskSplit split = TaskSplit.Test;
            if (fields.TryGetValue(SplitField, out JsonElement splitValue))
            {
                if (splitValue.ValueKind != JsonValueKind.String) throw Error("'split' must be a string: train, val or test");
                try
                {
                    split = TaskSplits.Parse(splitValue.GetString()!, "'split'");
                }
                catch (SparseCircuitsException e)
                {
                    throw Error(e.Message);
                }
            }

            bool hasText = TextFields.Any(fields.ContainsKey), hasIds = IdFields.Any(fields.ContainsKey);
            if (hasText && hasIds) throw Error("mixes text fields (positive, negative, tok, alt) with id fields (positive_ids, negative_ids, tok_id, alt_id); use one form per line");
            if (!hasText && !hasIds) throw Error($"missing fields: expected {string.Join(", ", TextFields)} (or {string.Join(", ", IdFields)})");

            if (hasText)
            {
                foreach (string name in TextFields)
                    if (!fields.ContainsKey(name)) throw Error($"missing field '{name}'");
                string Text(string name)
                {
                    JsonElement v = fields[name];
                    if (v.ValueKind != JsonValueKind.String) throw Error($"'{name}' must be a string, got {v.ValueKind.ToString().ToLowerInvariant()}");
                    string s = v.GetString()!;
                    if (s.Length == 0) throw Error($"'{name}' is empty");
                    return s;
                }
                var pair = new ContrastPair(Text("positive"), Text("negative"), Text("tok"), Text("alt"));
                if (pair.Tok == pair.Alt) throw Error($"tok and alt are the same text ({JsonSerializer.Serialize(pair.Tok)}); they must name different answers");
                if (pair.Positive == pair.Negative) throw Error("positive and negative are the same prompt; they must differ in the cue");
                return new CustomPair(number, split, pair, null);
            }

            foreach (string name in IdFields)
                if (!fields.ContainsKey(name)) throw Error($"missing field '{name}'");
            int[] Ids(string name)
            {
                JsonElement v = fields[name];
                if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0) throw Error($"'{name}' must be a non-empty array of token ids");
                var ids = new int[v.GetArrayLength()];
                int i = 0;
                foreach (JsonElement e in v.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out ids[i])) throw Error($"'{name}'[{i}] is not an integer token id");
                    i++;
                }
                return ids;
            }
            int Id(string name)
            {
                JsonElement v = fields[name];
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int id)) throw Error($"'{name}' must be an integer token id");
                return id;
            }
            var encoded = new EncodedPair(Ids("positive_ids"), Ids("negative_ids"), Id("tok_id"), Id("alt_id"));
            if (encoded.TokId == encoded.AltId) throw Error($"tok_id and alt_id are the same ({encoded.TokId}); they must name different answers");
            if (encoded.Positive.AsSpan().SequenceEqual(encoded.Negative)) throw Error("positive_ids and negative_ids are the same prompt; they must differ in the cue");
            return new CustomPair(number, split, null, encoded);
        }
    }

    static string OneLine(string message) => message.ReplaceLineEndings(" ");

    sealed record TextLine(string Positive, string Negative, string Tok, string Alt, string Split);
    sealed record IdLine(int[] PositiveIds, int[] NegativeIds, int TokId, int AltId, string Split);

    /// <summary>Writes text pairs, one per line with their split (atomically: all or nothing).</summary>
    public static void Write(string path, IEnumerable<(ContrastPair Pair, TaskSplit Split)> pairs) =>
        WriteLines(path, pairs.Select(p => JsonSerializer.Serialize(new TextLine(p.Pair.Positive, p.Pair.Negative, p.Pair.Tok, p.Pair.Alt, p.Split.Name()), Json.Compact)));

    /// <summary>Writes token-id pairs, one per line with their split (atomically).</summary>
    public static void WriteIds(string path, IEnumerable<(EncodedPair Pair, TaskSplit Split)> pairs) =>
        WriteLines(path, pairs.Select(p => JsonSerializer.Serialize(new IdLine(p.Pair.Positive, p.Pair.Negative, p.Pair.TokId, p.Pair.AltId, p.Split.Name()), Json.Compact)));

    static void WriteLines(string path, IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        foreach (string line in lines) text.Append(line).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }
}

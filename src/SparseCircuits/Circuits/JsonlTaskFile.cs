using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Data;

namespace SparseCircuits.Circuits;

/// <summary>
/// A custom task as a JSON-lines file, one contrast pair per line:
/// <c>{"positive": "...", "negative": "...", "tok": "...", "alt": "..."}</c>. After the positive
/// prompt the answer is <c>tok</c> (over <c>alt</c>); after the negative prompt it is <c>alt</c>.
/// <c>tok</c> and <c>alt</c> must each be one token. Pairs are shuffled with a fixed seed and split
/// 50/25/25 into train/val/test. This reader stands in until the task suite's reader replaces it.
/// </summary>
public static class JsonlTaskFile
{
    sealed record Line(string? Positive, string? Negative, string? Tok, string? Alt);

    public static BinaryTask Read(string path, CodeTokenizer tokenizer, ulong seed = 0)
    {
        if (!File.Exists(path)) throw new SparseCircuitsException($"task file not found: {path}");
        string name = Path.GetFileNameWithoutExtension(path);
        var pairs = new List<(TaskExample Positive, TaskExample Negative)>();
        int lineNumber = 0;
        foreach (string text in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            Line? line;
            try { line = JsonSerializer.Deserialize<Line>(text, Json.Options); }
            catch (JsonException e) { throw new SparseCircuitsException($"{path} line {lineNumber} is not valid JSON: {e.Message}"); }
            if (line?.Positive is not { Length: > 0 } positive || line.Negative is not { Length: > 0 } negative
                || line.Tok is not { Length: > 0 } tok || line.Alt is not { Length: > 0 } alt)
                throw new SparseCircuitsException($"{path} line {lineNumber} needs non-empty strings \"positive\", \"negative\", \"tok\" and \"alt\"");
            int tokId = SingleToken(tokenizer, tok, "tok", path, lineNumber);
            int altId = SingleToken(tokenizer, alt, "alt", path, lineNumber);
            if (tokId == altId) throw new SparseCircuitsException($"{path} line {lineNumber}: tok and alt are the same token");
            pairs.Add((new TaskExample(tokenizer.Encode(positive), tokId, altId), new TaskExample(tokenizer.Encode(negative), altId, tokId)));
        }
        if (pairs.Count < 4) throw new SparseCircuitsException($"{path} has {pairs.Count} pairs; a task needs at least 4 (train, val and test each get some)");

        var random = new SplitMix64(seed);
        for (int i = pairs.Count - 1; i > 0; i--)
        {
            int j = (int)random.NextBelow((ulong)i + 1);
            (pairs[i], pairs[j]) = (pairs[j], pairs[i]);
        }
        int test = Math.Max(1, pairs.Count / 4), val = Math.Max(1, pairs.Count / 4);
        static List<TaskExample> Prompts(IEnumerable<(TaskExample P, TaskExample N)> ps) => ps.SelectMany(p => new[] { p.P, p.N }).ToList();
        return new BinaryTask(name, Prompts(pairs.Skip(val + test)), Prompts(pairs.Take(val)), Prompts(pairs.Skip(val).Take(test)));
    }

    static int SingleToken(CodeTokenizer tokenizer, string text, string field, string path, int lineNumber)
    {
        int[] ids = tokenizer.Encode(text);
        if (ids.Length != 1)
            throw new SparseCircuitsException($"{path} line {lineNumber}: {field} {JsonSerializer.Serialize(text)} is {ids.Length} tokens; the answer must be exactly one token");
        return ids[0];
    }
}

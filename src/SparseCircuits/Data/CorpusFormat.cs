using System.Text.Json;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

public enum CorpusSplit { Train, Val, Test }

/// <summary>A whole split, or only its real files or only its generated programs (<see cref="SyntheticPython"/>).</summary>
public enum CorpusPart { All, Real, Synthetic }

/// <summary>One source file of the corpus: its path relative to its source root, and its text (LF line endings).</summary>
public sealed record CorpusDocument(string Path, string Sha256, string Text);

/// <summary>
/// On-disk corpus layout (docs/formats.md): <c>manifest.json</c> plus one JSON-lines file per split,
/// <c>train.jsonl</c>, <c>val.jsonl</c>, <c>test.jsonl</c>, one <see cref="CorpusDocument"/> per line.
/// </summary>
public static class CorpusFormat
{
    public const string ManifestFile = "manifest.json";
    public const int Version = 1;

    public static string SplitFile(CorpusSplit split) => split.ToString().ToLowerInvariant() + ".jsonl";

    /// <summary>Streams the documents of one split, in file order.</summary>
    public static IEnumerable<CorpusDocument> ReadDocuments(string corpusDir, CorpusSplit split)
    {
        if (!Directory.Exists(corpusDir)) throw new SparseCircuitsException($"corpus directory not found: {corpusDir}");
        if (!File.Exists(Path.Combine(corpusDir, ManifestFile)))
            throw new SparseCircuitsException($"{corpusDir} is not a corpus (no {ManifestFile}); build one with `circuits corpus build`");
        string path = Path.Combine(corpusDir, SplitFile(split));
        if (!File.Exists(path)) throw new SparseCircuitsException($"corpus split file missing: {path}");
        return Read(path);

        static IEnumerable<CorpusDocument> Read(string path)
        {
            int lineNumber = 0;
            foreach (string line in File.ReadLines(path))
            {
                lineNumber++;
                if (line.Length == 0) continue;
                CorpusDocument? doc;
                try { doc = JsonSerializer.Deserialize<CorpusDocument>(line, Json.Options); }
                catch (JsonException e) { throw new SparseCircuitsException($"{path}:{lineNumber}: not a corpus document: {e.Message}"); }
                if (doc is null || doc.Text is null) throw new SparseCircuitsException($"{path}:{lineNumber}: not a corpus document");
                yield return doc;
            }
        }
    }
}

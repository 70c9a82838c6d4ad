using System.Text;
using System.Text.Json;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Turns directories of Python files into a corpus: reads *.py recursively, skips files that are
/// not clean UTF-8 text or are too large (counting why), normalises line endings, removes exact
/// duplicates, splits by path hash and writes <see cref="CorpusFormat"/> atomically.
/// </summary>
public static class CorpusBuilder
{
    public static class SkipReason
    {
        public const string NotUtf8 = "not valid UTF-8";
        public const string NulBytes = "contains NUL bytes";
        public const string TooLarge = "larger than the size cap";
        public const string Unreadable = "unreadable";
    }

    /// <summary>Relative paths of generated documents start with this, so each split's real and synthetic parts can be told apart.</summary>
    public const string SyntheticPathPrefix = "<synthetic>/";

    public static CorpusManifest Build(CorpusOptions options, string outDir, IProgressReporter progress)
    {
        options.Validate();
        IReadOnlyList<string> sources = options.SyntheticOnly ? [] : options.Sources.Count > 0 ? options.Sources : [PythonSources.FindStandardLibrary()];
        var files = sources.Select(Enumerate).ToList(); // fails on a bad source before any output exists
        int total = files.Sum(f => f.Count);
        if (total == 0 && !options.SyntheticOnly)
            throw new SparseCircuitsException($"no .py files found in {string.Join(", ", sources)}");

        var skipped = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<(CorpusSplit Split, CorpusDocument Doc)>();
        int duplicates = 0;
        using (var task = progress.Start("reading .py files", total, "files"))
        {
            foreach (var source in files)
            {
                foreach (var (fullPath, relativePath) in source.Files)
                {
                    task.Advance(1);
                    var (text, reason) = ReadText(fullPath, options.MaxFileBytes);
                    if (text is null)
                    {
                        if (source.IsSingleFile) throw new SparseCircuitsException($"{fullPath}: {reason}");
                        skipped[reason!] = skipped.GetValueOrDefault(reason!) + 1;
                        continue;
                    }
                    string sha = Hashing.Sha256(Encoding.UTF8.GetBytes(text));
                    if (!seen.Add(sha)) { duplicates++; continue; }
                    var split = CorpusSplitter.Assign(relativePath, options.TrainFraction, options.ValFraction);
                    kept.Add((split, new CorpusDocument(relativePath, sha, text)));
                }
            }
        }
        if (kept.Count == 0 && !options.SyntheticOnly)
            throw new SparseCircuitsException($"none of the {total} .py files is usable ({Describe(skipped)})");
        int synthetic = 0;
        if (options.SyntheticBytes > 0)
        {
            using var task = progress.Start("generating simple Python", options.SyntheticBytes / 1e6, "MB");
            foreach (string program in SyntheticPython.Programs(options.SyntheticSeed, options.SyntheticBytes))
            {
                task.Advance(Encoding.UTF8.GetByteCount(program) / 1e6);
                string sha = Hashing.Sha256(Encoding.UTF8.GetBytes(program));
                if (!seen.Add(sha)) { duplicates++; continue; }
                string path = $"{SyntheticPathPrefix}{synthetic++:D7}.py";
                kept.Add((CorpusSplitter.Assign(path, options.TrainFraction, options.ValFraction), new CorpusDocument(path, sha, program)));
            }
        }

        using var staged = new StagedDirectory(outDir, CorpusFormat.ManifestFile);
        var splits = new SortedDictionary<string, CorpusSplitInfo>(StringComparer.Ordinal);
        foreach (var split in Enum.GetValues<CorpusSplit>())
        {
            string file = CorpusFormat.SplitFile(split);
            string path = Path.Combine(staged.Path, file);
            var docs = kept.Where(k => k.Split == split).Select(k => k.Doc).ToList();
            using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" })
            {
                foreach (var doc in docs) writer.WriteLine(JsonSerializer.Serialize(doc, Json.Compact));
            }
            splits[split.ToString().ToLowerInvariant()] =
                new CorpusSplitInfo(file, docs.Count, docs.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text)), Hashing.Sha256File(path));
        }
        var manifest = new CorpusManifest(
            Format: CorpusFormat.Version,
            Kind: CorpusManifest.KindName,
            Versions: ToolVersions.Current(),
            Sources: files.Select(f => new CorpusSourceInfo(f.Root, f.Count)).ToList(),
            MaxFileBytes: options.MaxFileBytes,
            TrainFraction: options.TrainFraction,
            ValFraction: options.ValFraction,
            FilesFound: total,
            FilesKept: kept.Count,
            DuplicatesRemoved: duplicates,
            Skipped: skipped,
            Splits: splits,
            Synthetic: options.SyntheticBytes > 0 ? new CorpusSyntheticInfo(options.SyntheticSeed, options.SyntheticBytes, synthetic, SyntheticPathPrefix) : null);
        AtomicFile.WriteJson(Path.Combine(staged.Path, CorpusFormat.ManifestFile), manifest);
        staged.Commit();

        progress.Info($"kept {kept.Count - synthetic} of {total} files" + (synthetic > 0 ? $" and {synthetic} synthetic programs" : "")
            + $"; {duplicates} duplicates removed; skipped: {Describe(skipped)}");
        return manifest;
    }

    static string Describe(IReadOnlyDictionary<string, int> skipped) =>
        skipped.Count == 0 ? "none" : string.Join(", ", skipped.Select(kv => $"{kv.Value} {kv.Key}"));

    sealed record SourceFiles(string Root, bool IsSingleFile, List<(string FullPath, string RelativePath)> Files)
    {
        public int Count => Files.Count;
    }

    static SourceFiles Enumerate(string source)
    {
        if (string.IsNullOrWhiteSpace(source)) throw new SparseCircuitsException("--source is empty");
        string full = Path.GetFullPath(source);
        if (File.Exists(full))
        {
            if (!full.EndsWith(".py", StringComparison.Ordinal))
                throw new SparseCircuitsException($"source file {full} is not a .py file");
            return new SourceFiles(full, true, [(full, Path.GetFileName(full))]);
        }
        if (!Directory.Exists(full)) throw new SparseCircuitsException($"source not found: {full}");

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Device, // follow no special files; symlinked dirs are skipped below
            MatchCasing = MatchCasing.CaseSensitive,
        };
        var list = new List<(string, string)>();
        foreach (string path in Directory.EnumerateFiles(full, "*.py", options))
        {
            if (IsInsideSymlinkedDirectory(full, path)) continue; // avoids cycles and double counting
            list.Add((path, Path.GetRelativePath(full, path).Replace('\\', '/')));
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Item2, b.Item2)); // file-system order is not deterministic
        return new SourceFiles(full, false, list);
    }

    static bool IsInsideSymlinkedDirectory(string root, string path)
    {
        for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length > root.Length; dir = Path.GetDirectoryName(dir))
            if (new DirectoryInfo(dir).LinkTarget is not null) return true;
        return false;
    }

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's text with LF line endings and no BOM, or null and the reason it is skipped.</summary>
    public static (string? Text, string? Reason) ReadText(string path, long maxBytes)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (info.Length > maxBytes) return (null, SkipReason.TooLarge);
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, SkipReason.Unreadable);
        }
        if (bytes.Length > maxBytes) return (null, SkipReason.TooLarge);
        if (Array.IndexOf(bytes, (byte)0) >= 0) return (null, SkipReason.NulBytes);
        string text;
        try { text = StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { return (null, SkipReason.NotUtf8); }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        return (text.Replace("\r\n", "\n").Replace('\r', '\n'), null);
    }
}

using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Encodes every split of a corpus into a uint16 shard. Documents are encoded in parallel in
/// chunks but written in corpus order, so output is byte-identical for the same inputs.
/// </summary>
public static class ShardWriter
{
    const int ChunkDocuments = 64;

    /// <param name="encode">text -> token ids (must be thread-safe)</param>
    /// <param name="addFiles">writes extra files into the (staged) output directory before it is committed</param>
    public static ShardManifest Write(string corpusDir, Func<string, int[]> encode, int vocabSize, int endOfTextId,
        string tokenizerHash, string outDir, IProgressReporter progress, Action<string>? addFiles = null)
    {
        if (vocabSize is < 1 or > 65536) throw new SparseCircuitsException($"vocab size {vocabSize} does not fit uint16 shards (1..65536)");
        if (endOfTextId < 0 || endOfTextId >= vocabSize) throw new SparseCircuitsException($"end-of-text id {endOfTextId} outside the vocabulary");
        string corpusManifestPath = Path.Combine(corpusDir, CorpusFormat.ManifestFile);
        var corpus = Json.ReadFile<CorpusManifest>(corpusManifestPath);
        if (corpus.Kind != CorpusManifest.KindName) throw new SparseCircuitsException($"{corpusManifestPath} is not a corpus manifest");

        using var staged = new StagedDirectory(outDir, ShardManifest.FileName);
        var splits = new SortedDictionary<string, ShardInfo>(StringComparer.Ordinal);
        foreach (var split in Enum.GetValues<CorpusSplit>())
        {
            string name = split.ToString().ToLowerInvariant();
            long bytesTotal = corpus.Splits.TryGetValue(name, out var info) ? info.Bytes : 0;
            string file = ShardManifest.BinFile(split);
            string path = Path.Combine(staged.Path, file);
            int documents = 0;
            long tokens = 0, bytes = 0;
            using (var task = progress.Start($"tokenizing {name}", Math.Max(1, bytesTotal / 1e6), "MB"))
            using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                foreach (var chunk in CorpusFormat.ReadDocuments(corpusDir, split).Chunk(ChunkDocuments))
                {
                    var encoded = new int[chunk.Length][];
                    Parallel.For(0, chunk.Length, i => encoded[i] = encode(chunk[i].Text));
                    for (int i = 0; i < chunk.Length; i++)
                    {
                        WriteTokens(stream, encoded[i], vocabSize, endOfTextId);
                        tokens += encoded[i].Length + 1;
                        long docBytes = System.Text.Encoding.UTF8.GetByteCount(chunk[i].Text);
                        bytes += docBytes;
                        task.Advance(docBytes / 1e6);
                    }
                    documents += chunk.Length;
                }
            }
            splits[name] = new ShardInfo(file, documents, tokens, bytes, Hashing.Sha256File(path));
            // Val and test of a corpus with generated programs also get their real and synthetic
            // parts alone, so a model's loss on real code stays measurable (docs/formats.md).
            if (corpus.Synthetic is not null && split != CorpusSplit.Train)
                foreach (var part in new[] { CorpusPart.Real, CorpusPart.Synthetic })
                    splits[ShardManifest.Key(split, part)] = WritePart(corpusDir, split, part, encode, vocabSize, endOfTextId, staged.Path);
        }
        var manifest = new ShardManifest(ShardManifest.CurrentFormat, ShardManifest.KindName, ToolVersions.Current(),
            vocabSize, endOfTextId, tokenizerHash, Hashing.Sha256File(corpusManifestPath), splits);
        addFiles?.Invoke(staged.Path);
        AtomicFile.WriteJson(Path.Combine(staged.Path, ShardManifest.FileName), manifest);
        staged.Commit();
        return manifest;
    }

    static ShardInfo WritePart(string corpusDir, CorpusSplit split, CorpusPart part, Func<string, int[]> encode, int vocabSize, int endOfTextId, string dir)
    {
        string file = ShardManifest.BinFile(split, part);
        string path = Path.Combine(dir, file);
        int documents = 0;
        long tokens = 0, bytes = 0;
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach (var doc in CorpusFormat.ReadDocuments(corpusDir, split))
            {
                bool synthetic = doc.Path.StartsWith(CorpusBuilder.SyntheticPathPrefix, StringComparison.Ordinal);
                if (synthetic != (part == CorpusPart.Synthetic)) continue;
                int[] ids = encode(doc.Text);
                WriteTokens(stream, ids, vocabSize, endOfTextId);
                tokens += ids.Length + 1;
                bytes += System.Text.Encoding.UTF8.GetByteCount(doc.Text);
                documents++;
            }
        }
        return new ShardInfo(file, documents, tokens, bytes, Hashing.Sha256File(path));
    }

    static void WriteTokens(Stream stream, int[] ids, int vocabSize, int endOfTextId)
    {
        var buffer = new byte[(ids.Length + 1) * 2];
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)vocabSize) throw new InvalidOperationException($"tokenizer produced id {id} outside its vocabulary of {vocabSize}");
            buffer[2 * i] = (byte)id;
            buffer[2 * i + 1] = (byte)(id >> 8);
        }
        buffer[^2] = (byte)endOfTextId;
        buffer[^1] = (byte)(endOfTextId >> 8);
        stream.Write(buffer);
    }
}

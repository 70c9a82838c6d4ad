using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>Corpus + tokenizer -> shard directory, with a copy of the tokenizer inside it.</summary>
public static class ShardBuilder
{
    public static ShardManifest Build(string corpusDir, string tokenizerPath, string outDir, IProgressReporter progress)
    {
        if (!Directory.Exists(corpusDir)) throw new SparseCircuitsException($"corpus directory not found: {corpusDir}");
        var tokenizer = CodeTokenizer.Load(tokenizerPath);
        return ShardWriter.Write(corpusDir, tokenizer.Encode, tokenizer.VocabSize, tokenizer.EndOfTextId, tokenizer.Hash, outDir, progress,
            stagedDir => tokenizer.CopyFilesTo(Path.Combine(stagedDir, ShardManifest.TokenizerDirName)));
    }
}

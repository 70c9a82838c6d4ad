using System.Diagnostics;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// Trains a tokenizer on a corpus's train split and writes it as one directory: the tokenizer
/// files (<see cref="TokenizerFiles"/>) plus <c>manifest.json</c> (<see cref="TokenizerManifest"/>).
/// The directory appears only when complete.
/// </summary>
public static class TokenizerTraining
{
    public const string ManifestFile = "manifest.json";

    /// <summary>Default output: a <c>tokenizer</c> directory beside the corpus directory.</summary>
    public static string DefaultOutput(string corpusDir)
    {
        string corpus = Path.GetFullPath(corpusDir).TrimEnd('/', '\\');
        return Path.Combine(Path.GetDirectoryName(corpus) ?? corpus, "tokenizer");
    }

    public static TokenizerManifest TrainFromCorpus(string corpusDir, string outDir, int vocabSize, IProgressReporter progress)
    {
        BpeTrainer.ValidateVocabSize(vocabSize);
        var documents = CorpusFormat.ReadDocuments(corpusDir, CorpusSplit.Train); // checks the corpus before anything is written
        string corpusManifestSha256 = Hashing.Sha256File(Path.Combine(corpusDir, CorpusFormat.ManifestFile));
        int documentCount = File.ReadLines(Path.Combine(corpusDir, CorpusFormat.SplitFile(CorpusSplit.Train))).Count(line => line.Length > 0);

        using var staged = new StagedDirectory(outDir, TokenizerFiles.MetadataFile);
        var clock = Stopwatch.StartNew();
        var model = BpeTrainer.Train(documents.Select(d => d.Text), vocabSize, progress, documentCount);
        double seconds = clock.Elapsed.TotalSeconds;

        TokenizerFiles.Save(model, staged.Path);
        var manifest = new TokenizerManifest(
            Format: 1,
            Tools: ToolVersions.Current(),
            Corpus: Path.GetFullPath(corpusDir),
            CorpusManifestSha256: corpusManifestSha256,
            Split: "train",
            RequestedVocabSize: vocabSize,
            VocabSize: model.VocabSize,
            TokenizerHash: CodeTokenizer.FromModel(model).Hash,
            TrainSeconds: Math.Round(seconds, 3),
            CreatedUtc: DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            Training: model.Stats);
        AtomicFile.WriteJson(Path.Combine(staged.Path, ManifestFile), manifest);
        staged.Commit();
        return manifest;
    }
}

/// <summary>
/// How a tokenizer directory was made (<c>manifest.json</c>). Unlike the tokenizer files it holds
/// times and versions, so it differs between otherwise identical runs.
/// </summary>
public sealed record TokenizerManifest(
    int Format,
    ToolVersions Tools,
    string Corpus,
    string CorpusManifestSha256,
    string Split,
    int RequestedVocabSize,
    int VocabSize,
    string TokenizerHash,
    double TrainSeconds,
    string CreatedUtc,
    BpeTrainingStats Training);

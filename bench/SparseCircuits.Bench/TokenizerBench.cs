using System.Diagnostics;
using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;

namespace SparseCircuits.Bench;

/// <summary>
/// BPE training time, encode throughput and token count on a corpus (its train split), or by
/// default on the train split of the built-in default corpus (this machine's Python standard library).
/// Options: --corpus DIR, --vocab N (default 2048), --train-only (skip encoding).
/// </summary>
static class TokenizerBench
{
    /// <summary>The options this benchmark reads; any other is refused before it starts.</summary>
    public static readonly string[] Options = ["--corpus", "--train-only", "--vocab"];

    public static int Run(string[] args)
    {
        string? corpus = BenchArgs.Option(args, "--corpus");
        int vocab = int.Parse(BenchArgs.Option(args, "--vocab") ?? BpeTrainer.DefaultVocabSize.ToString());

        var clock = Stopwatch.StartNew();
        List<string> documents;
        string source;
        if (corpus is not null)
        {
            documents = CorpusFormat.ReadDocuments(corpus, CorpusSplit.Train).Select(d => d.Text).ToList();
            source = $"corpus {corpus} (train split)";
        }
        else
        {
            // The built-in default corpus, built exactly as `circuits corpus build` does.
            string temp = Path.Combine(Path.GetTempPath(), $"sc-bench-corpus-{Environment.ProcessId}");
            var manifest = CorpusBuilder.Build(new CorpusOptions(), temp, NullProgress.Instance);
            documents = CorpusFormat.ReadDocuments(temp, CorpusSplit.Train).Select(d => d.Text).ToList();
            Directory.Delete(temp, recursive: true);
            source = $"default corpus {manifest.Sources[0].Path} (train split; {manifest.FilesKept} of {manifest.FilesFound} files kept)";
        }
        long bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        Console.WriteLine($"source: {source}");
        Console.WriteLine($"documents: {documents.Count}, {bytes / 1e6:F1} MB UTF-8, read in {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"cores: {Environment.ProcessorCount}");

        clock.Restart();
        var cpu = CpuTime();
        var model = BpeTrainer.Train(documents, vocab, new StageTimer());
        double trainSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"train: vocab {model.VocabSize} ({model.Stats.Merges} merges, {model.Stats.DuplicateMerges} duplicate), "
            + $"{model.Stats.DistinctPreTokens} distinct pre-tokens, {trainSeconds:F1} s ({(CpuTime() - cpu).TotalSeconds:F1} s CPU)");

        if (args.Contains("--train-only")) return 0;
        var tokenizer = CodeTokenizer.FromModel(model);
        Measure("encode, 1 thread", bytes, () => documents.Select(tokenizer.Encode).ToArray());
        int[][] encoded = Measure($"encode many, {Environment.ProcessorCount} threads", bytes, () => tokenizer.EncodeMany(documents));

        long tokens = encoded.Sum(e => (long)e.Length);
        int lossy = 0;
        for (int i = 0; i < documents.Count; i++)
        {
            if (!tokenizer.DecodeBytes(encoded[i]).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(documents[i]))) lossy++;
        }
        Console.WriteLine($"tokens: {tokens} ({(double)bytes / tokens:F2} bytes/token; training counted {model.Stats.TrainTokens})");
        Console.WriteLine($"round trip: {documents.Count - lossy}/{documents.Count} documents exact");
        return lossy == 0 ? 0 : 1;
    }

    static T Measure<T>(string name, long bytes, Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        var cpu = CpuTime();
        T result = work();
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{name}: {seconds:F2} s ({(CpuTime() - cpu).TotalSeconds:F1} s CPU), {bytes / 1e6 / seconds:F1} MB/s");
        return result;
    }

    /// <summary>CPU time of this process: on a shared machine, wall time alone says little.</summary>
    static TimeSpan CpuTime() => Process.GetCurrentProcess().TotalProcessorTime;


    /// <summary>Prints how long each stage of training took.</summary>
    sealed class StageTimer : IProgressReporter
    {
        public IProgressTask Start(string description, double total, string unit) => new Stage(description);
        public void Info(string message) => Console.WriteLine(message);

        sealed class Stage(string name) : IProgressTask
        {
            readonly Stopwatch _clock = Stopwatch.StartNew();
            readonly TimeSpan _cpu = CpuTime();
            public void Advance(double amount) { }
            public void Set(double value) { }
            public void Status(string status) { }
            public void Dispose() => Console.WriteLine($"  {name}: {_clock.Elapsed.TotalSeconds:F1} s ({(CpuTime() - _cpu).TotalSeconds:F1} s CPU)");
        }
    }
}

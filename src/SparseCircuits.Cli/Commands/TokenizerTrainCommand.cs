using System.ComponentModel;
using SparseCircuits.Data;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tokenizer train</c>: BPE on a corpus's train split.</summary>
public sealed class TokenizerTrainCommand : Command<TokenizerTrainCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--corpus <DIR>")]
        [Description("Corpus directory (from `circuits corpus build`); trains on its train split.")]
        public string? Corpus { get; init; }

        [CommandOption("--vocab <N>")]
        [Description("Vocabulary size including <|endoftext|>, 257..65535 (default 2048, as the paper).")]
        public int Vocab { get; init; } = BpeTrainer.DefaultVocabSize;

        [CommandOption("--out <DIR>")]
        [Description("Output directory (default: `tokenizer` beside the corpus directory). Replaced if it holds an earlier tokenizer.")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Corpus)) throw new Core.SparseCircuitsException("--corpus is required");
        BpeTrainer.ValidateVocabSize(settings.Vocab);
        string outDir = Core.OutputPath.CheckDirectory(settings.Out ?? TokenizerTraining.DefaultOutput(settings.Corpus));

        var manifest = ConsoleProgress.Run(settings,
            progress => TokenizerTraining.TrainFromCorpus(settings.Corpus, outDir, settings.Vocab, progress));

        var stats = manifest.Training;
        Console.WriteLine($"tokenizer: {outDir}");
        Console.WriteLine($"vocab: {manifest.VocabSize} ({stats.Merges} merges + 256 bytes + <|endoftext|>)");
        Console.WriteLine($"trained on: {stats.Documents} documents, {stats.Bytes / 1e6:F1} MB, {stats.DistinctPreTokens} distinct pre-tokens");
        Console.WriteLine($"time: {manifest.TrainSeconds:F1} s");
        Console.WriteLine($"compression: {stats.BytesPerToken:F2} bytes/token on the train split");
        return 0;
    }
}

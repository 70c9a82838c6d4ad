using System.ComponentModel;
using SparseCircuits.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits corpus tokenize</c>: one uint16 shard per split.</summary>
public sealed class CorpusTokenizeCommand : Command<CorpusTokenizeCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--corpus <DIR>")]
        [Description("Corpus directory (from `circuits corpus build`).")]
        public string Corpus { get; init; } = "data/corpus";

        [CommandOption("--tokenizer <PATH>")]
        [Description("Tokenizer directory or file (ours, or a GPT-2 vocab.json/merges.txt pair). Default: `tokenizer` beside the corpus.")]
        public string? Tokenizer { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Output shard directory (replaced if it holds earlier shards).")]
        public string Out { get; init; } = "data/shards";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        Core.OutputPath.CheckDirectory(settings.Out);
        string tokenizerPath = settings.Tokenizer ?? TokenizerTraining.DefaultOutput(settings.Corpus);
        var manifest = ConsoleProgress.Run(settings, progress => ShardBuilder.Build(settings.Corpus, tokenizerPath, settings.Out, progress));
        var table = new Table().AddColumns("split", "documents", "tokens", "bytes/token");
        foreach (var (name, split) in manifest.Splits)
            table.AddRow(name, split.Documents.ToString("N0"), split.Tokens.ToString("N0"), (split.Bytes / (double)Math.Max(1, split.Tokens)).ToString("0.00"));
        AnsiConsole.Write(table);
        Console.WriteLine($"shards written to {Path.GetFullPath(settings.Out)}");
        return 0;
    }
}

using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tasks mine</c>: a task's real-code variant, pairs cut from a corpus's real files, as a custom-task JSONL file.</summary>
public sealed class TasksMineCommand : Command<TasksMineCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("single_double_quote | bracket_counting | for_while")]
        public string Name { get; init; } = "";

        [CommandOption("--corpus <DIR>")]
        [Description("Corpus directory (from `circuits corpus build`); its generated programs are skipped.")]
        public string? Corpus { get; init; }

        [CommandOption("--from <SPLIT>")]
        [Description("Corpus split to mine: test (default, files no model trained on) | val | train.")]
        [DefaultValue(CorpusSplit.Test)]
        public CorpusSplit From { get; init; } = CorpusSplit.Test;

        [CommandOption("--out <FILE>")]
        [Description("Output JSONL file (written atomically); each pair carries a train/val/test split.")]
        public string? Out { get; init; }

        [CommandOption("-n|--count <N>")]
        [Description("At most this many pairs.")]
        [DefaultValue(500)]
        public int N { get; init; } = 500;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(settings.Corpus)) throw new SparseCircuitsException("--corpus is required");
        if (string.IsNullOrWhiteSpace(settings.Out)) throw new SparseCircuitsException("--out is required");
        OutputPath.CheckFile(settings.Out);
        var pairs = RealCodePairs.Mine(settings.Name, CorpusFormat.ReadDocuments(settings.Corpus, settings.From), settings.N, cancellation);
        if (pairs.Count == 0) throw new SparseCircuitsException($"no {settings.Name} pairs found in the {settings.From.ToString().ToLowerInvariant()} split of {settings.Corpus}");
        CustomTaskFile.Write(settings.Out, pairs);
        Console.WriteLine($"wrote {pairs.Count} real-code {settings.Name} pairs to {Path.GetFullPath(settings.Out)}");
        return 0;
    }
}

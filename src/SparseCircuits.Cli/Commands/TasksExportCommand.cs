using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tasks export</c>: a built-in task's pairs as a custom-task JSONL file.</summary>
public sealed class TasksExportCommand : Command<TasksExportCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Task name (see `circuits tasks list`).")]
        public string Name { get; init; } = "";

        [CommandOption(PromptContextOption.Template)]
        [Description(PromptContextOption.Help)]
        [DefaultValue(PromptContextOption.Default)]
        public string Context { get; init; } = PromptContextOption.Default;

        [CommandOption("--split <SPLIT>")]
        [Description("train | val | test | all")]
        [DefaultValue("test")]
        public string Split { get; init; } = "test";

        [CommandOption("--out <FILE>")]
        [Description("Output JSONL file (written atomically).")]
        public string? Out { get; init; }

        [CommandOption("-n|--count <N>")]
        [Description("Number of pairs.")]
        [DefaultValue(500)]
        public int N { get; init; } = 500;

        [CommandOption("--seed <S>")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption("--tokenizer <PATH>")]
        [Description("Export only pairs usable under this tokenizer.")]
        public string? Tokenizer { get; init; }

        [CommandOption("--model <DIR>")]
        [Description("Like --tokenizer, with a run directory's tokenizer.")]
        public string? Model { get; init; }

        [CommandOption("--ids")]
        [Description("Write token ids (positive_ids, ..., tok_id, alt_id) instead of text; needs a tokenizer.")]
        public bool Ids { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(settings.Out)) throw new SparseCircuitsException("--out is required");
        OutputPath.CheckFile(settings.Out);
        if (settings.N < 1) throw new SparseCircuitsException($"--n must be >= 1 (got {settings.N})");
        ContrastTask task = TaskRegistry.Get(settings.Name);
        TaskSplit? split = TasksCommon.ParseSplit(settings.Split);
        CodeTokenizer? tokenizer = TasksCommon.LoadTokenizer(settings.Tokenizer, settings.Model);
        if (settings.Ids && tokenizer is null) throw new SparseCircuitsException("--ids needs --tokenizer or --model");

        var options = new TaskDatasetOptions { Context = PromptContexts.Parse(settings.Context) };
        var text = new List<(ContrastPair, TaskSplit)>();
        var ids = new List<(EncodedPair, TaskSplit)>();
        int dropped = 0;
        foreach (var (pair, pairSplit) in task.Stream(settings.Seed, options.Context))
        {
            if (split is not null && pairSplit != split) continue;
            if (tokenizer is not null)
            {
                EncodedPair? encoded = PairEncoder.TryEncode(pair, tokenizer, options, out _);
                if (encoded is null)
                {
                    if (++dropped > 10 * settings.N + 100) throw new SparseCircuitsException($"{task.Name}: too few pairs are usable with this tokenizer (see `circuits tasks list --tokenizer ...`)");
                    continue;
                }
                ids.Add((encoded, pairSplit));
            }
            text.Add((pair, pairSplit));
            if (text.Count >= settings.N) break;
        }
        if (settings.Ids) CustomTaskFile.WriteIds(settings.Out, ids);
        else CustomTaskFile.Write(settings.Out, text);
        string note = tokenizer is null ? "" : $" ({dropped} unusable with the tokenizer skipped)";
        Console.WriteLine($"wrote {text.Count} {task.Name} pairs ({settings.Split}) to {Path.GetFullPath(settings.Out)}{note}");
        return 0;
    }
}

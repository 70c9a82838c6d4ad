using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tasks show</c>: pairs of a task (or a custom file) in full, the cue highlighted.</summary>
public sealed class TasksShowCommand : Command<TasksShowCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "[NAME]")]
        [Description("Task name (see `circuits tasks list`).")]
        public string? Name { get; init; }

        [CommandOption(PromptContextOption.Template)]
        [Description(PromptContextOption.Help)]
        [DefaultValue(PromptContextOption.Default)]
        public string Context { get; init; } = PromptContextOption.Default;

        [CommandOption("--file <FILE>")]
        [Description("Show a custom task file (JSONL) instead of a built-in task.")]
        public string? File { get; init; }

        [CommandOption("-n|--count <N>")]
        [DefaultValue(5)]
        public int N { get; init; } = 5;

        [CommandOption("--split <SPLIT>")]
        [Description("train | val | test | all")]
        [DefaultValue("test")]
        public string Split { get; init; } = "test";

        [CommandOption("--seed <S>")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption("--tokenizer <PATH>")]
        [Description("Also show token counts and answer tokens under this tokenizer.")]
        public string? Tokenizer { get; init; }

        [CommandOption("--model <DIR>")]
        [Description("Like --tokenizer, with a run directory's tokenizer.")]
        public string? Model { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.N < 1) throw new SparseCircuitsException($"--n must be >= 1 (got {settings.N})");
        if ((settings.Name is null) == (settings.File is null)) throw new SparseCircuitsException("give a task NAME or --file FILE");
        TaskSplit? split = TasksCommon.ParseSplit(settings.Split);
        CodeTokenizer? tokenizer = TasksCommon.LoadTokenizer(settings.Tokenizer, settings.Model);

        IEnumerable<(ContrastPair Pair, EncodedPair? Ids)> shown;
        TaskDataset? dataset = null;
        if (settings.File is not null)
        {
            var lines = CustomTaskFile.Read(settings.File).Where(l => split is null || l.Split == split).Take(settings.N).ToList();
            if (lines.Count == 0) throw new SparseCircuitsException($"{settings.File} has no {settings.Split} pairs (lines without a \"split\" field are test pairs)");
            foreach (var line in lines.Where(l => l.Ids is not null))
            {
                if (tokenizer is null) throw new SparseCircuitsException($"{settings.File}:{line.Line} holds token ids; give --tokenizer or --model to show them");
            }
            if (tokenizer is not null) dataset = TaskDataset.FromFile(settings.File, tokenizer, split, settings.N);
            shown = lines.Select(l => l.Ids is { } ids ? (Decode(ids, tokenizer!), ids) : (l.Text!, (EncodedPair?)null));
        }
        else
        {
            ContrastTask task = TaskRegistry.Get(settings.Name!);
            AnsiConsole.MarkupLine($"[bold]{task.Name}[/]: {Markup.Escape(task.Description)}");
            AnsiConsole.MarkupLine($"[bold]cue:[/] {Markup.Escape(task.Cue)}");
            shown = task.Pairs(split, settings.N, settings.Seed, PromptContexts.Parse(settings.Context)).Select(p => (p, (EncodedPair?)null));
        }

        int i = 0;
        foreach (var (pair, ids) in shown)
        {
            i++;
            AnsiConsole.Write(new Rule($"pair {i}").LeftJustified());
            int? tok = null, alt = null;
            string status = "";
            if (tokenizer is not null)
            {
                DropReason reason = default;
                EncodedPair? encoded = ids ?? PairEncoder.TryEncode(pair, tokenizer, new TaskDatasetOptions(), out reason);
                if (encoded is null) status = $"[red]dropped[/]: {Markup.Escape(PairEncoder.Describe(reason))}";
                else
                {
                    (tok, alt) = (encoded.TokId, encoded.AltId);
                    status = $"[grey]{encoded.Positive.Length} / {encoded.Negative.Length} prompt tokens{(ids is null ? " (with <|endoftext|>)" : "")}; tok id {tok}, alt id {alt}[/]";
                }
            }
            AnsiConsole.MarkupLine("[bold]positive[/]");
            AnsiConsole.MarkupLine(TasksCommon.RenderPrompt(pair, true, TasksCommon.Answer(pair.Tok, tok, tokenizer)));
            AnsiConsole.MarkupLine("[bold]negative[/]");
            AnsiConsole.MarkupLine(TasksCommon.RenderPrompt(pair, false, TasksCommon.Answer(pair.Alt, alt, tokenizer)));
            if (status.Length > 0) AnsiConsole.MarkupLine(status);
        }
        if (dataset is not null && !dataset.Available) AnsiConsole.MarkupLine($"[red]unavailable[/]: {Markup.Escape(dataset.UnavailableReason!)}");
        return 0;
    }

    /// <summary>An id pair shown as text; the answers are the single answer tokens.</summary>
    static ContrastPair Decode(EncodedPair ids, CodeTokenizer tokenizer) =>
        new(tokenizer.Decode(ids.Positive), tokenizer.Decode(ids.Negative), tokenizer.Decode([ids.TokId]), tokenizer.Decode([ids.AltId]));
}

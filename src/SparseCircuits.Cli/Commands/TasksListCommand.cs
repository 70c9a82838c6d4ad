using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Tasks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tasks list</c>: every built-in task with an example pair and its availability under a tokenizer.</summary>
public sealed class TasksListCommand : Command<TasksListCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--tokenizer <PATH>")]
        [Description("Check availability under this tokenizer (directory or file).")]
        public string? Tokenizer { get; init; }

        [CommandOption("--model <DIR>")]
        [Description("Check availability under this run directory's tokenizer.")]
        public string? Model { get; init; }

        [CommandOption("--sample <N>")]
        [Description("Pairs (all splits) to encode per task when checking availability.")]
        [DefaultValue(200)]
        public int Sample { get; init; } = 200;

        [CommandOption("--seed <S>")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.Sample < 1) throw new SparseCircuitsException($"--sample must be >= 1 (got {settings.Sample})");
        var tokenizer = TasksCommon.LoadTokenizer(settings.Tokenizer, settings.Model);
        foreach (ContrastTask task in TaskRegistry.All)
        {
            ContrastPair example = TasksCommon.Example(task, settings.Seed);
            string availability = "[grey]availability not checked (give --tokenizer or --model)[/]";
            if (tokenizer is not null)
                availability = TasksCommon.Availability(TaskDataset.FromTask(task, tokenizer, null, settings.Sample, settings.Seed));
            string group = TaskRegistry.ShortContext.Contains(task) ? " [grey](short context, beyond the paper)[/]" : "";
            AnsiConsole.Write(new Rule($"[bold]{task.Name}[/]{group}").LeftJustified());
            AnsiConsole.MarkupLine(Markup.Escape(task.Description));
            AnsiConsole.MarkupLine($"[bold]cue:[/] {Markup.Escape(task.Cue)}");
            AnsiConsole.MarkupLine($"[bold]tok / alt:[/] {Markup.Escape(task.TokLabel)} / {Markup.Escape(task.AltLabel)}");
            AnsiConsole.MarkupLine($"[bold]positive:[/]\n{TasksCommon.RenderPrompt(example, true, TasksCommon.Answer(example.Tok, null, null), linesBefore: 1)}");
            AnsiConsole.MarkupLine($"[bold]negative:[/]\n{TasksCommon.RenderPrompt(example, false, TasksCommon.Answer(example.Alt, null, null), linesBefore: 1)}");
            AnsiConsole.MarkupLine(availability);
            AnsiConsole.WriteLine();
        }
        return 0;
    }
}

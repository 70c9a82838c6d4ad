using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using SparseCircuits.Training;
using Spectre.Console;

namespace SparseCircuits.Cli.Commands;

/// <summary>What the <c>circuits tasks</c> commands share: finding the tokenizer, rendering pairs.</summary>
internal static class TasksCommon
{
    /// <summary>The tokenizer from --tokenizer or from a run directory's tokenizer/ (--model); null when neither is given.</summary>
    public static CodeTokenizer? LoadTokenizer(string? tokenizer, string? model)
    {
        if (tokenizer is not null && model is not null) throw new SparseCircuitsException("give --tokenizer or --model, not both");
        if (tokenizer is not null) return CodeTokenizer.Load(tokenizer);
        if (model is null) return null;
        var run = new RunDirectory(Path.GetFullPath(model));
        if (!Directory.Exists(run.Path)) throw new SparseCircuitsException($"model directory not found: {model}");
        if (!Directory.Exists(run.TokenizerDir)) throw new SparseCircuitsException($"{model} has no tokenizer/ directory (is it a run directory from `circuits train`?)");
        return CodeTokenizer.Load(run.TokenizerDir);
    }

    public static TaskSplit? ParseSplit(string? text) => text is null || text == "all" ? null : TaskSplits.Parse(text, "--split");

    /// <summary>Text with newlines and tabs made visible, for answers.</summary>
    public static string Visible(string text) => text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\t", "\\t");

    /// <summary>
    /// One prompt as Spectre markup, the region that differs from the other prompt highlighted,
    /// followed by the answer. <paramref name="linesBefore"/> limits how many lines before the
    /// cue's line are shown (null: all).
    /// </summary>
    public static string RenderPrompt(ContrastPair pair, bool positive, string answer, int? linesBefore = null)
    {
        string prompt = positive ? pair.Positive : pair.Negative;
        CueRegion region = pair.Difference(wholeWords: true);
        int length = positive ? region.PositiveLength : region.NegativeLength;
        int from = 0;
        if (linesBefore is int keep)
        {
            from = LineStart(prompt, region.Start);
            for (int i = 0; i < keep && from > 0; i++) from = LineStart(prompt, from - 1);
        }
        var text = new StringBuilder();
        if (from > 0) text.Append("[grey]…[/]\n");
        text.Append(Markup.Escape(prompt[from..region.Start]));
        string cue = prompt.Substring(region.Start, length);
        text.Append(cue.Length == 0 ? "[black on yellow]∅[/]" : $"[black on yellow]{Markup.Escape(cue)}[/]");
        text.Append(Markup.Escape(prompt[(region.Start + length)..]));
        text.Append($"[green]{Markup.Escape(answer)}[/]");
        return text.ToString();
    }

    static int LineStart(string text, int at)
    {
        while (at > 0 && text[at - 1] != '\n') at--;
        return at;
    }

    /// <summary>The answer as shown after a prompt: the token's text when a tokenizer is known, else the answer text.</summary>
    public static string Answer(string answerText, int? tokenId, CodeTokenizer? tokenizer) =>
        tokenId is int id && tokenizer is not null ? $"⟨{tokenizer.TokenText(id)}⟩" : $"⟨{Visible(answerText)}⟩";

    /// <summary>A short example pair of a task: the one with the shortest prompt among the first few test pairs.</summary>
    public static ContrastPair Example(ContrastTask task, ulong seed) =>
        task.Pairs(TaskSplit.Test, 12, seed).MinBy(p => p.Positive.Length)!;

    public static string Availability(TaskDataset data) => data.Available
        ? $"[green]available[/] ({data.Pairs.Count}/{data.Candidates} usable{(data.Exhausted ? ", generator exhausted" : "")})"
        : $"[red]unavailable[/]: {Markup.Escape(data.UnavailableReason!)}";
}

/// <summary>The `--context` option of every command that generates built-in task prompts, defined once.</summary>
internal static class PromptContextOption
{
    public const string Template = "--context <short|scaffold>";
    public const string Help = "Code around each built-in task's cue: short (paper-style snippets) or scaffold (a random file around the cue, with distractors).";
    /// <summary>The library's default, <see cref="PromptContext.Short"/>.</summary>
    public const string Default = nameof(PromptContext.Short);
}

namespace SparseCircuits.Tasks;

/// <summary>
/// How much code surrounds a task's cue (docs/tasks.md). <see cref="Short"/> is the paper's style
/// and the default: a few natural lines, the cue close to the answer. <see cref="Scaffold"/> puts
/// the cue inside a random file (docstring, imports, helpers, a nested frame, filler statements)
/// and adds the distractors some tasks know (an earlier list before a bracket-counting prompt):
/// the paper's context-dilution and distractor attacks, kept to measure robustness.
/// </summary>
public enum PromptContext { Short, Scaffold }

public static class PromptContexts
{
    public const string Names = "short | scaffold";

    /// <summary>Parses <c>short</c> or <c>scaffold</c>; anything else is a user error naming <paramref name="option"/>.</summary>
    public static PromptContext Parse(string text, string option = "--context") =>
        Enum.TryParse(text.Trim(), ignoreCase: true, out PromptContext context) && Enum.IsDefined(context) && !int.TryParse(text, out _)
            ? context
            : throw new Core.SparseCircuitsException($"{option} must be short or scaffold (got '{text}')");
}

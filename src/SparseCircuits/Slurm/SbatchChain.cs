namespace SparseCircuits.Slurm;

/// <summary>
/// One sbatch call of a submission: its script, its own options, what it waits for (earlier steps
/// by name, or ids of jobs already queued), and whether it starts held.
/// </summary>
public sealed record SbatchStep(string Name, string Script, IReadOnlyList<string> Options, IReadOnlyList<string> After, bool Hold = false);

/// <summary>
/// The sbatch calls of a submission, chained with <c>--dependency=afterok</c>: a job starts only
/// when everything it waits for finished with exit code 0, so a failed job stops what depends on
/// it instead of letting it run on missing inputs. The same steps are submitted, or printed as the
/// shell commands that would submit them (--dry-run, docs).
/// </summary>
public static class SbatchChain
{
    /// <summary>Submits the steps in order; when one fails, cancels the ones already submitted and rethrows. Held steps stay held for the caller to release.</summary>
    /// <returns>the job id of every step, by name</returns>
    public static IReadOnlyDictionary<string, string> Submit(IReadOnlyList<SbatchStep> steps, ISlurmClient slurm)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (SbatchStep step in steps) ids[step.Name] = slurm.Submit(step.Script, Options(step, after => ids.GetValueOrDefault(after, after)));
        }
        catch
        {
            if (ids.Count > 0) slurm.Cancel(ids.Values.ToList()); // half a chain would wait forever on what was never submitted
            throw;
        }
        return ids;
    }

    /// <summary>The steps as bash commands (each job id caught in a variable named after its step), then the release of held steps.</summary>
    public static string Render(IReadOnlyList<SbatchStep> steps)
    {
        var names = steps.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var lines = steps.Select(step =>
        {
            var words = Options(step with { After = [] }, a => a).Select(Word).ToList();
            // Our own variables stay bare so the shell expands them; job ids are digits and '_'.
            if (step.After.Count > 0) words.Add($"--dependency=afterok:{string.Join(':', step.After.Select(a => names.Contains(a) ? $"${a}" : Word(a)))}");
            return $"{step.Name}=$(sbatch --parsable {string.Join(' ', words)} {Word(step.Script)})";
        });
        return string.Join('\n', lines.Concat(steps.Where(s => s.Hold).Select(s => $"scontrol release ${s.Name}"))) + "\n";
    }

    static List<string> Options(SbatchStep step, Func<string, string> resolve)
    {
        var options = new List<string>();
        if (step.Hold) options.Add("--hold");
        options.AddRange(step.Options);
        if (step.After.Count > 0) options.Add($"--dependency=afterok:{string.Join(':', step.After.Select(resolve))}");
        return options;
    }

    /// <summary>A shell word: bare when it holds only characters the shell leaves alone, else single-quoted.</summary>
    static string Word(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "_-./=:,+@%".Contains(c)) ? word : SlurmScripts.Quote(word);
}

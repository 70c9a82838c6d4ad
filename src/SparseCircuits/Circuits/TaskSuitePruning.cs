using SparseCircuits.Core;
using SparseCircuits.Tasks;
using SparseCircuits.Training;

namespace SparseCircuits.Circuits;

/// <summary>
/// Prunes every built-in task of the suite, one after another, writing each circuit under
/// <c>circuitsDir/NAME/circuit.json</c> and the summary as <c>circuitsDir/summary.json</c>.
/// A task the model cannot bring to the target (or the tokenizer cannot express) becomes a row
/// with the reason instead of stopping the run.
/// </summary>
public static class TaskSuitePruning
{
    public static TaskSuiteSummary Run(TrainedModel trained, MeanActivations means, PruningConfig config, string circuitsDir, ulong seed,
        IProgressReporter progress)
    {
        var model = ModelReference.Of(trained);
        var options = new TaskDatasetOptions { MaxPromptTokens = trained.Config.Model.NCtx }; // longer prompts are dropped, not fatal
        var rows = new List<TaskSummaryRow>();
        using (var bar = progress.Start("tasks", TaskRegistry.Names.Count(), "tasks"))
        {
            foreach (string name in TaskRegistry.Names)
            {
                bar.Status(name);
                try
                {
                    BinaryTask task = TaskSource.FromBuiltIn(name, trained.Tokenizer, seed, options);
                    Circuit circuit = CircuitPruning.Run(trained.Model, means, task, config, progress, model, $"builtin:{name}");
                    string path = Path.Combine(circuitsDir, name, CircuitFile.FileName);
                    CircuitFile.Save(path, circuit);
                    rows.Add(TaskSuiteSummary.Row(circuit, Path.GetRelativePath(circuitsDir, path)));
                }
                catch (SparseCircuitsException e)
                {
                    rows.Add(new TaskSummaryRow(name, false, null, null, null, null, null, null, e.Message));
                }
                bar.Advance(1);
            }
        }
        var summary = new TaskSuiteSummary(1, config.TargetLoss, rows);
        summary.Save(Path.Combine(circuitsDir, TaskSuiteSummary.FileName));
        return summary;
    }
}

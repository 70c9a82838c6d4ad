using SparseCircuits.Core;
using SparseCircuits.Sweeps;

namespace SparseCircuits.Frontier;

/// <summary>
/// One model of the sweep in the frontier table. <paramref name="Edges"/> has every task of the
/// sweep (null: not pruned at the target; with several pruning repeats, the geometric mean of
/// their edges); <paramref name="GeometricMeanEdges"/> is over the table's common tasks only, so
/// every model is summarised over the same tasks.
/// </summary>
public sealed record FrontierRow(
    string Name,
    bool Dense,
    int NLayer,
    int Width,
    long Parameters,
    long Nonzeros,
    double WeightDensity,
    double ValLoss,
    IReadOnlyDictionary<string, double?> Edges,
    double? GeometricMeanEdges,
    IReadOnlyList<string> Unsolved,
    IReadOnlyList<SweepTaskResult> Curves,
    EdgeRange? RepeatRange = null);

/// <summary>The smallest and largest geometric-mean edges of one model over the pruning repeats taken one at a time.</summary>
public sealed record EdgeRange(double Min, double Max);

/// <summary>
/// Per model: size, sparsity, val loss, edges per task at the sweep's target loss, and the
/// geometric mean of edges over the <see cref="CommonTasks"/>: tasks pruned on every model to a
/// circuit with at least one edge. <see cref="TrivialTasks"/> are reached by some model with an
/// empty circuit (every node mean-ablated: the direct embedding-to-unembedding path already meets
/// the target), so their size says nothing about the model and they are left out of every mean.
/// </summary>
public sealed record FrontierTable(double TargetLoss, IReadOnlyList<string> Tasks, IReadOnlyList<string> CommonTasks,
    IReadOnlyList<string> TrivialTasks, IReadOnlyList<FrontierRow> Rows, IReadOnlyList<string> MissingJobs, int Repeats = 1)
{
    /// <param name="tasks">task names in the sweep's order</param>
    /// <param name="missingJobs">jobs of the spec without a job.json yet (listed, not tabulated)</param>
    /// <param name="repeat">the edges of one pruning repeat only; null = the geometric mean over the repeats</param>
    public static FrontierTable Build(double targetLoss, IReadOnlyList<string> tasks, IReadOnlyList<SweepJobResult> jobs,
        IReadOnlyList<string>? missingJobs = null, int? repeat = null)
    {
        if (jobs.Count == 0) throw new SparseCircuitsException("the sweep has no finished job yet; run `circuits sweep` first");
        double? EdgesOf(SweepJobResult job, string task, int? r) => job.Tasks.FirstOrDefault(t => t.Task == task)?.EdgesOf(r);
        var trivial = tasks.Where(task => jobs.Any(j => EdgesOf(j, task, repeat) == 0)).ToList();
        var common = tasks.Where(task => !trivial.Contains(task) && jobs.All(j => EdgesOf(j, task, repeat) is not null)).ToList();
        int repeats = jobs.SelectMany(j => j.Tasks).Where(t => t.Pruned).Select(t => t.Repeats).DefaultIfEmpty(1).Min();
        // The row's summary over the common tasks, from the given repeat (null: the repeats' geometric mean per task).
        double? MeanOver(SweepJobResult job, int? r) => GeometricMean.Of(common.Select(t => EdgesOf(job, t, r)!.Value));
        EdgeRange? RangeOverRepeats(SweepJobResult job)
        {
            if (repeat is not null || repeats < 2 || common.Count == 0) return null;
            var means = Enumerable.Range(0, repeats).Select(r => MeanOver(job, r)!.Value).ToList();
            return new EdgeRange(means.Min(), means.Max());
        }
        var rows = jobs.Select(j => new FrontierRow(
            j.Name, j.Dense, j.NLayer, j.DModel, j.Parameters, j.Nonzeros, j.WeightDensity, j.ValLoss,
            tasks.ToDictionary(t => t, t => EdgesOf(j, t, repeat)),
            MeanOver(j, repeat),
            tasks.Where(t => EdgesOf(j, t, repeat) is null).ToList(),
            j.Tasks,
            RangeOverRepeats(j))).ToList();
        return new FrontierTable(targetLoss, tasks, common, trivial, rows, missingJobs ?? [], repeats);
    }
}

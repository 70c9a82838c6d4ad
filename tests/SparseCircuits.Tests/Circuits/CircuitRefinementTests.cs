using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tasks;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Circuits;

public sealed class CircuitRefinementTests
{
    static readonly MaskUnits Units = new(new NodeSpace(PlantedModel.Config), tieQk: false);

    /// <summary>A made-up loss: 0.1 when every needed unit is kept, 1 otherwise; edges = kept nodes squared.</summary>
    static (Func<IReadOnlyList<bool>, (TaskScore, LogitCalibration?)> Score, Func<IReadOnlyList<bool>, int> Edges, List<bool[]> Seen) Needs(params int[] needed)
    {
        var seen = new List<bool[]>();
        return (keep =>
        {
            seen.Add(keep.ToArray());
            bool all = needed.All(u => keep[Units.NodesOfUnit[u][0]]);
            return (new TaskScore(all ? 0.1 : 1.0, all ? 1 : 0.5, 8), null);
        }, keep => keep.Count(b => b) * keep.Count(b => b), seen);
    }

    [Fact]
    public void Backward_elimination_keeps_exactly_the_needed_units_within_its_evaluation_bound()
    {
        int[] cut = [9, 3, 17, 0, 21, 5, 12, 30, 1, 8, 25];   // strongest first; the needed ones sit anywhere in it
        var (score, edges, seen) = Needs(3, 12, 25);
        var result = CircuitRefinement.Run(score, edges, Units, cut, new TaskScore(0.1, 1, 8), null, target: 0.15);

        int[] kept = Enumerable.Range(0, Units.Count).Where(u => result.Keep[Units.NodesOfUnit[u][0]]).ToArray();
        Assert.Equal([3, 12, 25], kept);
        Assert.Equal(0.1, result.Score.Loss);
        Assert.Equal(seen.Count, result.Info.Evaluations);
        Assert.True(result.Info.Evaluations <= CircuitRefinement.MaxEvaluations(cut.Length), $"{result.Info.Evaluations} evaluations");
        Assert.Equal(cut.Length, result.Info.UnitsBefore);
        Assert.Equal(cut.Length * cut.Length, result.Info.EdgesBefore);
        // Every accepted step is smaller than the one before and reaches the target; the last is the result.
        Assert.All(result.Info.Steps, s => Assert.True(s.Loss <= 0.15));
        Assert.True(result.Info.Steps.Zip(result.Info.Steps.Skip(1)).All(p => p.Second.Nodes < p.First.Nodes));
        Assert.Equal(3, result.Info.Steps[^1].Nodes);
        Assert.Equal(9, result.Info.Steps[^1].Edges);
        // Weakest first: the first selection tried drops the end of the ranking.
        Assert.False(seen[0][Units.NodesOfUnit[cut[^1]][0]]);
        Assert.True(seen[0][Units.NodesOfUnit[cut[0]][0]]);
    }

    [Fact]
    public void A_cut_where_every_unit_is_needed_stays_as_it_is()
    {
        int[] cut = [4, 2, 7];
        var (score, edges, _) = Needs(cut);
        var result = CircuitRefinement.Run(score, edges, Units, cut, new TaskScore(0.1, 1, 8), null, target: 0.15);
        Assert.Equal(3, result.Keep.Count(b => b));
        Assert.Empty(result.Info.Steps);
        Assert.Equal(3, result.Info.Evaluations);   // one single-unit trial each (blocks start at 1 for 3 units)
    }

    [Fact]
    public void Running_out_of_time_keeps_the_last_accepted_circuit()
    {
        int[] cut = [9, 3, 17, 0, 21, 5, 12, 30];
        var (score, edges, seen) = Needs(9);
        int calls = 0;
        var result = CircuitRefinement.Run(score, edges, Units, cut, new TaskScore(0.1, 1, 8), null, target: 0.15, outOfTime: () => ++calls > 1);
        Assert.True(result.Info.Stopped);
        Assert.Single(seen);
        Assert.Equal(6, result.Keep.Count(b => b));   // the first block (the weakest 2 of 8) went, then time ran out
    }

    [Fact]
    public void Refining_a_padded_cut_of_the_planted_model_finds_exactly_the_planted_circuit()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var space = new NodeSpace(model.Config);
        var units = new MaskUnits(space, tieQk: false);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var task = PlantedModel.Task();
        // A cut as a weak ranking might give it: the planted nodes mixed with twelve others.
        var planted = PlantedModel.Circuit.Select(space.IndexOf).ToArray();
        var padding = Enumerable.Range(0, space.Count).Where(n => !planted.Contains(n)).Take(12).ToArray();
        int[] cut = [padding[0], planted[0], padding[1], padding[2], planted[1], .. padding[3..8], planted[2], .. padding[8..], planted[3]];
        var scorer = new KeptSetScorer(model, ablation, task.Val, calibrate: false);
        var before = scorer.Score(space.Selection(cut.Select(n => space[n])));
        Assert.True(before.Score.Loss <= 0.15);

        var result = CircuitRefinement.Run(scorer, units, cut, before.Score, null, 0.15);

        Assert.Equal(PlantedModel.Circuit.Select(n => n.ToString()).Order(), space.Selected(result.Keep).Select(n => n.ToString()).Order());
        Assert.Equal(PlantedModel.CircuitEdges, result.Info.Steps[^1].Edges);
        Assert.True(result.Score.Loss <= 0.15);
        Assert.Equal(scorer.Evaluations - 1, result.Info.Evaluations);
    }

    [Fact]
    public void Pruning_refines_within_its_evaluation_cap_and_not_at_all_at_zero()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var config = new PruningConfig { Steps = 150, Runs = 1, ControlSets = 2 };

        Circuit refined = CircuitPruning.Run(model, means, PlantedModel.Task(), config, NullProgress.Instance);
        Assert.NotNull(refined.Refinement);
        Assert.Equal(4, refined.Refinement!.UnitsBefore);            // the cut is already the planted circuit...
        Assert.Equal(4, refined.Refinement.Evaluations);              // ...so each unit is tried once and kept
        Assert.False(refined.Refinement.Stopped);
        Assert.Equal(4, refined.NodeCount);
        Assert.True(refined.CpuSeconds > 0);
        // Calibration is off for the cut, but fitted to the final circuit on val and reported.
        Assert.False(refined.Calibration.Enabled);
        var space = new NodeSpace(model.Config);
        using (var ablation = new NodeAblation(space, means, AblationKind.Mean))
        {
            var task = PlantedModel.Task();
            double[] d = TaskEvaluator.LogitDifferences(model, task.Val, ablation.Fixed(space.Selection(CircuitFile.NodeIds(refined))));
            var fit = LogitCalibration.Fit(task.Val, d);
            Assert.Equal(fit.Scale, refined.Calibration.Scale, 9);
            Assert.Equal(fit.Shift, refined.Calibration.Shift, 9);
        }
        Assert.NotNull(refined.Validation.SufficiencyCalibrated);

        Circuit capped = CircuitPruning.Run(model, means, PlantedModel.Task(), config with { RefineEvaluations = 2 }, NullProgress.Instance);
        Assert.Equal(2, capped.Refinement!.Evaluations);
        Assert.True(capped.Refinement.Stopped);

        Circuit off = CircuitPruning.Run(model, means, PlantedModel.Task(), config with { RefineEvaluations = 0 }, NullProgress.Instance);
        Assert.Null(off.Refinement);
        Assert.Equal(refined.Nodes.Select(n => n.Id), off.Nodes.Select(n => n.Id));
    }
}

using SparseCircuits.Tasks;
using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Circuits;

/// <summary>
/// Finds a task's circuit end to end: checks that the full model reaches the target loss, ranks
/// nodes (learned masks with a small hyperparameter search, or attribution), cuts each ranking at
/// the smallest k reaching the target on the validation prompts, keeps the smallest circuit,
/// extracts its edges from the weights and validates it on the test prompts.
/// </summary>
public static class CircuitPruning
{
    public static Circuit Run(SparseGpt model, MeanActivations means, BinaryTask task, PruningConfig config, IProgressReporter progress,
        ModelReference? source = null, string? taskSource = null)
    {
        config.Validate();
        task.Validate(model.Config.NCtx, model.Config.VocabSize);
        TorchRuntime.EnsureInitialized();
        var clock = Stopwatch.StartNew();
        var cpu = CpuClock.StartNew();
        var space = new NodeSpace(model.Config);
        var units = new MaskUnits(space, config.TieQk);
        using var ablation = new NodeAblation(space, means, config.Ablation);
        using var frozen = new FrozenWeights(model);

        double[] fullD = TaskEvaluator.LogitDifferences(model, task.Val);
        TaskScore valFull = TaskEvaluator.Score(config.Calibrate ? LogitCalibration.Fit(task.Val, fullD).Apply(task.Val, fullD) : fullD);
        if (valFull.Loss > config.TargetLoss)
            throw new SparseCircuitsException(
                $"the full model cannot reach the target: its task loss on the {task.Name} validation prompts is {valFull.Loss:0.####} " +
                $"(accuracy {valFull.Accuracy:P1}), above the target {config.TargetLoss}; raise --target-loss or use a better model");

        DiscretizationResult? best = null;
        double[] bestScores = [];
        int[] bestRanking = [];
        SearchSetting? chosen = null;
        var search = new List<SearchRun>();
        int evaluationsPerCut = 2 * (int)Math.Ceiling(Math.Log2(units.Count + 1)) + 2;
        if (config.SkipSearchWhenEmptyReaches && NeedsNoNodes(model, ablation, task, config))
        {
            // Answered with every node mean-ablated (the cue is not needed, e.g. `else_elif` in a
            // model that always prefers one answer): the empty circuit is the smallest, and a mask
            // search would spend minutes to find it.
            progress.Info($"{task.Name}: every node ablated already reaches the target; the circuit is empty (no search)");
            bestRanking = Enumerable.Range(0, units.Count).ToArray();
            bestScores = new double[space.Count];
            using var bar = progress.Start($"{task.Name}: cut", evaluationsPerCut, "evals");
            best = Discretization.Run(model, ablation, units, bestRanking, task.Val, config.TargetLoss, config.Calibrate, bar);
        }
        else if (config.Method == PruningMethod.LearnedMask)
        {
            for (int run = 0; run < config.MaxRuns; run++)
            {
                if (run > 0 && !AnotherRunFits(config, cpu.Elapsed, run)) break;
                var runClock = Stopwatch.StartNew();
                SearchSetting setting = config.Setting(run);
                LearnedMasks.Result masks;
                using (var bar = progress.Start($"{task.Name}: masks {run + 1}/{config.MaxRuns} (k_coef {setting.KCoef:g3}, lr {setting.LearningRate:g3})", config.Steps, "steps"))
                    masks = LearnedMasks.Train(model, ablation, units, task.Train, config, setting, bar);
                double[] unitScores = masks.Tau.Select(t => (double)t).ToArray();
                int[] ranking = MaskUnits.Rank(unitScores);
                DiscretizationResult cut;
                using (var bar = progress.Start($"{task.Name}: cut {run + 1}/{config.MaxRuns}", evaluationsPerCut, "evals"))
                    cut = Discretization.Run(model, ablation, units, ranking, task.Val, config.TargetLoss, config.Calibrate, bar);
                search.Add(new SearchRun(setting, cut.Nodes, cut.Score.Loss, masks.LastTaskLoss, masks.OpenNodes, runClock.Elapsed.TotalSeconds));
                progress.Info($"{task.Name} run {run + 1}: k_coef {setting.KCoef:g3}, lr {setting.LearningRate:g3}: {cut.Nodes} nodes at val loss {cut.Score.Loss:0.####}");
                if (best is null || cut.Nodes < best.Nodes || (cut.Nodes == best.Nodes && cut.Score.Loss < best.Score.Loss))
                {
                    (best, chosen, bestRanking) = (cut, setting, ranking);
                    bestScores = units.UnitOfNode.Select(u => unitScores[u]).ToArray();
                }
            }
        }
        else
        {
            double[] nodeScores;
            using (var bar = progress.Start($"{task.Name}: attribution", task.Train.Count, "prompts"))
                nodeScores = AttributionScores.Compute(model, ablation, task.Train, progress: bar);
            bestRanking = MaskUnits.Rank(units.UnitScores(nodeScores));
            using (var bar = progress.Start($"{task.Name}: cut", evaluationsPerCut, "evals"))
                best = Discretization.Run(model, ablation, units, bestRanking, task.Val, config.TargetLoss, config.Calibrate, bar);
            bestScores = nodeScores;
        }

        bool[] keep = best!.Keep;
        TaskScore valCircuit = best.Score;
        LogitCalibration? calibration = best.Calibration;
        RefinementInfo? refinement = null;
        if (config.RefineEvaluations > 0 && best.Units > 0)
        {
            var scorer = new KeptSetScorer(model, ablation, task.Val, config.Calibrate);
            CircuitRefinement.Result refined;
            using (var bar = progress.Start($"{task.Name}: refining {best.Nodes} nodes",
                Math.Min(config.RefineEvaluations, CircuitRefinement.MaxEvaluations(best.Units)), "evals"))
                refined = CircuitRefinement.Run(scorer, units, bestRanking.Take(best.Units).ToList(), best.Score, best.Calibration, config.TargetLoss,
                    () => scorer.Evaluations >= config.RefineEvaluations || cpu.Elapsed.TotalMinutes >= config.BudgetMinutes, bar);
            (keep, valCircuit, calibration, refinement) = (refined.Keep, refined.Score, refined.Calibration, refined.Info);
            progress.Info($"{task.Name}: refined {best.Nodes} -> {keep.Count(b => b)} nodes ({refinement.Evaluations} evaluations, {refinement.Seconds:0} s)");
        }

        // Reported either way: the scale and shift that fit the final circuit on val, and (in the
        // validation) its test sufficiency with them, next to the uncalibrated one.
        calibration ??= new KeptSetScorer(model, ablation, task.Val, calibrate: true).Score(keep).Calibration;
        IReadOnlyList<NodeId> kept = space.Selected(keep);
        IReadOnlyList<CircuitEdge> edges = CircuitGraph.Edges(model, kept);
        CircuitValidationResult validation;
        using (var bar = progress.Start($"{task.Name}: validating on test", CircuitValidation.Evaluations(config.ControlSets), "evals"))
            validation = CircuitValidation.Run(model, means, space, keep, task.Test, config.ControlSets, config.Seed, calibration, bar);

        if (config.BudgetMinutes is not null)
            progress.Info($"{task.Name}: search used {cpu.Elapsed.TotalMinutes:0.0} of {config.BudgetMinutes:0.##} CPU minutes ({search.Count} runs)");
        float[] meanValues = means.Flat(space);
        ModelConfig c = model.Config;
        return new Circuit
        {
            Model = new CircuitModel(source, c.NLayer, c.DModel, c.NHead, c.DHead, c.MlpWidth, space.Count),
            Task = new CircuitTask(task.Name, taskSource, task.Train.Count, task.Val.Count, task.Test.Count),
            TargetLoss = config.TargetLoss,
            Method = config.Method,
            Ablation = config.Ablation,
            Hyperparameters = config,
            Chosen = chosen,
            Search = search,
            Calibration = new CalibrationInfo(config.Calibrate, calibration!.Scale, calibration.Shift),
            NodeCount = kept.Count,
            EdgeCount = CircuitGraph.PaperEdgeCount(edges),
            EdgeCountsByKind = new[] { CircuitGraph.Weight, CircuitGraph.AttentionScore, CircuitGraph.Residual }
                .ToDictionary(k => k, k => edges.Count(e => e.Kind == k)),
            ValFullModel = valFull,
            ValCircuit = valCircuit,
            Nodes = kept.Select(n =>
            {
                int index = space.IndexOf(n);
                return new CircuitNode(n.ToString(), n.Layer, n.Location.Site(), n.Index, n.Head(c.DHead), meanValues[index], bestScores[index]);
            }).ToList(),
            Edges = edges,
            LossCurve = best.Curve,
            Refinement = refinement,
            Validation = validation,
            Seconds = clock.Elapsed.TotalSeconds,
            CpuSeconds = cpu.Elapsed.TotalSeconds,
        };
    }

    /// <summary>True when the validation prompts reach the target with every node mean-ablated.</summary>
    static bool NeedsNoNodes(SparseGpt model, NodeAblation ablation, BinaryTask task, PruningConfig config) =>
        new KeptSetScorer(model, ablation, task.Val, config.Calibrate).Score(new bool[ablation.Space.Count]).Score.Loss <= config.TargetLoss;

    /// <summary>
    /// Share of a CPU budget the mask runs may take; the rest goes to the refinement, which
    /// shrinks the best cut further (and stops when the budget is spent).
    /// </summary>
    public const double SearchShare = 0.6;

    /// <summary>Whether one more mask run (as long as the mean of those so far) fits in the search's share of the budget.</summary>
    public static bool AnotherRunFits(PruningConfig config, TimeSpan used, int runsSoFar) =>
        config.BudgetMinutes is not { } budget || used.TotalMinutes * (runsSoFar + 1) / runsSoFar <= SearchShare * budget;
}

using SparseCircuits.Circuits;

namespace SparseCircuits.Cli.Commands;

/// <summary>The few lines that describe a circuit: size, losses, validation.</summary>
static class CircuitSummary
{
    public static void Print(Circuit c)
    {
        var v = c.Validation;
        string method = c.Method == PruningMethod.LearnedMask ? "learned masks" : "attribution";
        Console.WriteLine($"{c.Task.Name}: {c.NodeCount} of {c.Model.TotalNodes:N0} nodes, {c.EdgeCount} edges " +
                          $"({string.Join(", ", c.EdgeCountsByKind.Where(kv => kv.Value > 0).Select(kv => $"{kv.Value} {kv.Key}"))}); " +
                          $"{method}, {c.Ablation.ToString().ToLowerInvariant()} ablation, target loss {c.TargetLoss}");
        Console.WriteLine($"  val:  circuit loss {c.ValCircuit.Loss:0.0000} (full model {c.ValFullModel.Loss:0.0000})" +
                          (c.Calibration.Enabled ? $", calibrated: scale {c.Calibration.Scale:0.###}, shift {c.Calibration.Shift:0.###}" : ""));
        Console.WriteLine($"  test: full model      loss {v.FullModel.Loss:0.0000}  accuracy {v.FullModel.Accuracy:P1}");
        Console.WriteLine($"        sufficiency     loss {v.Sufficiency.Loss:0.0000}  accuracy {v.Sufficiency.Accuracy:P1}" +
                          (v.SufficiencyCalibrated is { } cal ? $"  (calibrated {cal.Loss:0.0000})" : ""));
        Console.WriteLine($"        necessity       loss {v.Necessity.Loss:0.0000}  accuracy {v.Necessity.Accuracy:P1}");
        Console.WriteLine($"        random x{v.Control.Sets,-3}     loss {v.Control.LossMean:0.0000} ± {v.Control.LossStd:0.0000}  accuracy {v.Control.AccuracyMean:P1} ± {v.Control.AccuracyStd:P1}");
        Console.WriteLine($"        zero-ablation   sufficiency {v.ZeroAblation.Sufficiency.Loss:0.0000}, necessity {v.ZeroAblation.Necessity.Loss:0.0000}");
    }
}

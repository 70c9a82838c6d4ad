namespace SparseCircuits.Circuits;

/// <summary>
/// k_coef as a controller (when a setpoint is given): with the straight-through mask the task
/// loss of each training batch is the loss of the circuit the hard mask currently is, so raising
/// the penalty while that loss (smoothed) sits below the setpoint and lowering it above drives the
/// mask towards the fewest nodes that still reach it — one run finds the penalty a grid over
/// k_coef would have to search for. Multiplicative steps of at most 2% keep it smooth; without a
/// setpoint k_coef stays as given.
/// </summary>
public sealed class AdaptivePenalty(double kCoef, double? setpoint)
{
    public const double Rate = 0.02, Smoothing = 0.9;
    double _smoothed = double.NaN;

    public double KCoef { get; private set; } = kCoef;

    /// <summary>Takes one step's task loss and moves k_coef towards the setpoint.</summary>
    public void Observe(double taskLoss)
    {
        if (setpoint is not { } target) return;
        _smoothed = double.IsNaN(_smoothed) ? taskLoss : Smoothing * _smoothed + (1 - Smoothing) * taskLoss;
        double error = Math.Clamp((target - _smoothed) / target, -1, 1);
        KCoef *= Math.Exp(Rate * error);
    }
}

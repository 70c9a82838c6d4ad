using SparseCircuits.Core;

namespace SparseCircuits.Training;

/// <summary>
/// Adam hyperparameters from the paper: beta1 0.9, beta2 0.95, eps 0.1 (large on purpose: it damps
/// updates of rarely-active weights), decoupled weight decay 0.1 on matrices.
/// </summary>
public sealed record AdamConfig(double Beta1 = 0.9, double Beta2 = 0.95, double Eps = 0.1, double WeightDecay = 0.1)
{
    /// <summary>Returns this config, or throws naming the first field outside its range.</summary>
    public AdamConfig Validate()
    {
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new SparseCircuitsException($"optimizer beta1 must be in [0, 1) (got {Beta1})");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new SparseCircuitsException($"optimizer beta2 must be in [0, 1) (got {Beta2})");
        if (!(Eps > 0 && double.IsFinite(Eps))) throw new SparseCircuitsException($"optimizer eps must be a finite number > 0 (got {Eps})");
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay)))
            throw new SparseCircuitsException($"optimizer weight_decay must be a finite number >= 0 (got {WeightDecay})");
        return this;
    }
}

using SparseCircuits.Core;
using SparseCircuits.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// The projection that keeps weights sparse (docs/method.md, "Weight-sparse training"): after every
/// optimizer step, in each sparse matrix, zero all but the largest |w|.
/// <para>
/// Exactness: the kept support has exactly <c>max(target, j * neurons)</c> entries (capped at the
/// matrix size), where j = min(minPerNeuron, fan-in of a neuron). The j largest |w| of every neuron
/// are kept first; the remaining slots go to the largest |w| among the other entries. So when
/// <c>j * neurons &gt; target</c> the min-j rule wins and the matrix keeps more than the target.
/// Ties at the cut-off go to the lower (row-major) index, so the result depends only on the values.
/// Every entry outside the support is set to 0; entries inside it keep their value, which may
/// already be 0, so <c>count_nonzero</c> equals the support size unless kept weights were exactly 0
/// (never the case for randomly initialised weights).
/// </para>
/// </summary>
public static class WeightSparsity
{
    /// <summary>Default j of the "minimum j alive per neuron" rule.</summary>
    public const int DefaultMinPerNeuron = 4;

    /// <summary>Nonzeros a matrix of <paramref name="numel"/> entries keeps at <paramref name="density"/>: round(density * numel), at least 1.</summary>
    public static long TargetNonzeros(long numel, double density)
    {
        if (!(density > 0 && density <= 1)) throw new SparseCircuitsException($"weight density must be in (0, 1]; got {density}");
        if (numel < 1) throw new ArgumentOutOfRangeException(nameof(numel), numel, "a matrix has at least one entry");
        return Math.Clamp((long)Math.Round(density * numel, MidpointRounding.AwayFromZero), 1, numel);
    }

    /// <summary>Fraction of entries that are nonzero.</summary>
    public static double Density(Tensor weight)
    {
        using var scope = NewDisposeScope();
        return weight.count_nonzero().item<long>() / (double)weight.numel();
    }

    /// <summary>
    /// Zeros, in place and outside autograd, every entry of a 2-D <paramref name="weight"/> outside
    /// the support described in the class summary. Returns the support size.
    /// </summary>
    /// <param name="target">nonzeros to keep (>= 1)</param>
    /// <param name="minPerNeuron">j: entries always kept per neuron; 0 disables the rule</param>
    /// <param name="axis">which axis indexes neurons; <see cref="NeuronAxis.None"/> disables the rule (embeddings)</param>
    public static long Project(Tensor weight, long target, int minPerNeuron = DefaultMinPerNeuron, NeuronAxis axis = NeuronAxis.None)
    {
        if (weight.dim() != 2) throw new ArgumentException($"expected a matrix; got shape [{string.Join(", ", weight.shape)}]", nameof(weight));
        if (target < 1) throw new ArgumentOutOfRangeException(nameof(target), target, "keep at least one entry");
        if (minPerNeuron < 0) throw new ArgumentOutOfRangeException(nameof(minPerNeuron), minPerNeuron, "must be >= 0");
        long numel = weight.numel();
        if (target >= numel) return numel; // nothing to zero (the j rule only ever adds entries)

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // 1. The j largest |w| of every neuron. Transposing puts neurons on rows either way.
        Tensor? dropForced = null;
        long forcedCount = 0;
        if (minPerNeuron > 0 && axis != NeuronAxis.None)
        {
            Tensor perNeuron = axis == NeuronAxis.Rows ? weight : weight.t(); // (neurons, fan_in)
            int j = (int)Math.Min(minPerNeuron, perNeuron.shape[1]);
            Tensor dropRows = TopKMask.Drop(perNeuron, j, byMagnitude: true);
            dropForced = axis == NeuronAxis.Rows ? dropRows : dropRows.t();
            forcedCount = j * perNeuron.shape[0];
        }

        long support = Math.Min(numel, Math.Max(target, forcedCount));
        if (support == numel) return numel;

        // 2. The largest of the rest fill the remaining slots. Forced entries become -1, below any
        //    |w|, so they are never chosen twice.
        long rest = support - forcedCount;
        Tensor drop;
        if (dropForced is null) drop = TopKMask.Drop(weight.flatten(), rest, byMagnitude: true).view_as(weight);
        else if (rest == 0) drop = dropForced;
        else
        {
            using Scalar belowAny = -1.0;
            drop = TopKMask.Drop(weight.abs().masked_fill_(dropForced.logical_not(), belowAny).flatten(), rest, byMagnitude: false)
                .view_as(weight).logical_and_(dropForced);
        }
        using Scalar zero = 0.0;
        weight.masked_fill_(drop, zero);
        return support;
    }

    /// <summary>Projects every sparse matrix of <paramref name="model"/>; returns the support size per parameter name.</summary>
    /// <param name="matrixDensity">density of c_attn, c_proj and c_fc weights</param>
    /// <param name="embeddingDensity">density of wte, wpe and lm_head (the paper allows a denser value)</param>
    public static IReadOnlyDictionary<string, long> ProjectModel(SparseGpt model, double matrixDensity, double embeddingDensity,
        int minPerNeuron = DefaultMinPerNeuron)
    {
        var supports = new Dictionary<string, long>();
        foreach (ModelParameter p in model.SparseMatrices())
        {
            double density = p.Kind == ParameterKind.Embedding ? embeddingDensity : matrixDensity;
            supports[p.Name] = Project(p.Tensor, TargetNonzeros(p.Tensor.numel(), density), minPerNeuron, p.NeuronAxis);
        }
        return supports;
    }
}

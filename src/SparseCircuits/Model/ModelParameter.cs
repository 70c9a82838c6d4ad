using TorchSharp.Modules;

namespace SparseCircuits.Model;

/// <summary>How weight-sparse training treats a parameter (docs/method.md, "Weight-sparse training").</summary>
public enum ParameterKind
{
    /// <summary>wte, wpe, lm_head: sparse matrix, may get its own (denser) fraction, no min-j rule.</summary>
    Embedding,
    /// <summary>c_attn, c_proj, c_fc weights: sparse matrix with the min-j-per-neuron rule.</summary>
    Matrix,
    /// <summary>Linear biases: sparse or dense is a training choice.</summary>
    Bias,
    /// <summary>RMSNorm weights, sink logits, bigram table: never sparsified.</summary>
    Dense,
}

/// <summary>Which axis of a (out_features, in_features) weight indexes the neurons the min-j rule protects.</summary>
public enum NeuronAxis
{
    /// <summary>No per-neuron rule (embeddings, biases, dense parameters).</summary>
    None,
    /// <summary>One neuron per output row: c_fc, c_attn (each q/k/v channel).</summary>
    Rows,
    /// <summary>One neuron per input column: attention and MLP c_proj.</summary>
    Columns,
}

/// <summary>A parameter with its official state_dict name and its role in weight-sparse training.</summary>
public sealed record ModelParameter(string Name, Parameter Tensor, ParameterKind Kind, NeuronAxis NeuronAxis)
{
    public bool IsSparseMatrix => Kind is ParameterKind.Embedding or ParameterKind.Matrix;
}

using SparseCircuits.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

/// <summary>Tiny models with every parameter random (biases, norms, sinks too), so tests see each term.</summary>
internal static class TestModels
{
    public const int Vocab = 13;

    public static ModelConfig Tiny(ActivationSparsity? sparsity = null) => ModelPresets.Tiny.For(Vocab) with
    {
        NCtx = 16,
        ActivationSparsity = sparsity ?? ActivationSparsity.Released,
    };

    /// <summary>Every option on: learned positions, sink, bigram, ReLU, an odd d_mlp, AbsTopK at all locations incl. q/k.</summary>
    public static ModelConfig AllOptions() => Tiny(ActivationSparsity.PaperText with { MlpNeuron = 0.5 }) with
    {
        PositionalEmbedding = PositionalEmbedding.Learned,
        AttentionSink = true,
        BigramTable = true,
        Activation = MlpActivation.Relu,
        DMlp = 48,
    };

    public static SparseGpt Create(ModelConfig config, ulong seed = 1, ScalarType dtype = ScalarType.Float32, double std = 0.3)
    {
        var model = new SparseGpt(config, new Generator(seed, CPU));
        var g = new Generator(seed + 1000, CPU);
        using (no_grad())
            foreach (var (_, t) in model.state_dict()) t.normal_(0, std, g);
        return model.to(dtype); // after drawing, so float32 and float64 models hold the same values
    }

    /// <summary>Same shape and bit-identical values (TorchSharp's <c>equal</c> is elementwise).</summary>
    public static bool Same(this Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static Tensor Tokens(long batch, long time, ulong seed = 7) =>
        randint(0, Vocab, [batch, time], generator: new Generator(seed, CPU));
}

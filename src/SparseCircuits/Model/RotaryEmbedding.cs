using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// Rotary position embedding (RoPE, Su et al. 2021), an option beyond the paper
/// (<c>model.positional_embedding = rotary</c>): inside each head, q and k channel i and its partner
/// i + d_head/2 are rotated as a pair by the angle position * base^(-2i/d_head), so that q·k depends on
/// how far apart two tokens are and not on where they are. Applied after the q and k hook points,
/// so nodes, masks and means stay the unrotated channels; nothing is learned or saved.
/// </summary>
public sealed class RotaryEmbedding
{
    public const double Base = 10000;

    readonly Tensor cos, sin; // (n_ctx, d_head), float64 so float64 models stay exact
    readonly int half;

    public RotaryEmbedding(int nCtx, int dHead)
    {
        if (dHead % 2 != 0) throw new ArgumentException($"rotary embedding needs an even d_head; got {dHead}", nameof(dHead));
        half = dHead / 2;
        var (cosValues, sinValues) = (new double[nCtx * dHead], new double[nCtx * dHead]);
        for (int position = 0; position < nCtx; position++)
            for (int i = 0; i < dHead; i++)
            {
                double angle = position * Frequency(i % half, dHead);
                cosValues[position * dHead + i] = Math.Cos(angle);
                sinValues[position * dHead + i] = Math.Sin(angle);
            }
        // Kept for the model's lifetime, whatever dispose scope the model was built in.
        cos = tensor(cosValues).view(nCtx, dHead).DetachFromDisposeScope();
        sin = tensor(sinValues).view(nCtx, dHead).DetachFromDisposeScope();
    }

    /// <summary>Angle per position of channel pair <paramref name="pair"/> (channels pair and pair + d_head/2).</summary>
    public static double Frequency(int pair, int dHead) => Math.Pow(Base, -2.0 * pair / dHead);

    /// <summary>
    /// Rotates (..., T, d_head) activations whose last-but-one axis holds positions
    /// <paramref name="start"/> .. start + T - 1: x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1].
    /// </summary>
    public Tensor Apply(Tensor x, long start = 0)
    {
        long T = x.shape[^2];
        using Tensor c = cos.narrow(0, start, T).to(x.dtype, x.device), s = sin.narrow(0, start, T).to(x.dtype, x.device);
        using Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half), minusX2 = x2.neg();
        using Tensor rotated = cat([minusX2, x1], dim: -1);
        return KeptScalars.Add(x * c, rotated * s);
    }
}

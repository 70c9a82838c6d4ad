using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// Additions whose scalar arguments stay alive for the whole native call. TorchSharp passes the
/// hidden alpha = 1 of <c>a + b</c> (and the number of <c>a + 0.5</c>) as a temporary
/// <see cref="TorchSharp.Scalar"/> that nothing references once its handle is read, so a garbage
/// collection started by another thread (the other batch stream, a progress bar) can finalise it
/// while libtorch still reads it; libtorch then fails on freed memory ("Expected false to be true
/// ... toFloat at Scalar.h:140"), seen in session 19 after 70-190 steps of a 4 x 512 model trained
/// in two streams. The model's forward pass, which runs on the stream threads, adds through here.
/// </summary>
public static class KeptScalars
{
    // A static field is reachable for the life of the process, so it is never finalised.
    static readonly TorchSharp.Scalar One = 1;

    /// <summary><paramref name="a"/> + <paramref name="b"/> (broadcasting).</summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> + <paramref name="b"/> for a number b.</summary>
    public static Tensor Add(Tensor a, double b)
    {
        using TorchSharp.Scalar value = b; // disposed after the call, so alive during it
        return a.add(value, One);
    }
}

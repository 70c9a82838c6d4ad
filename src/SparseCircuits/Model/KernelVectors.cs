using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SparseCircuits.Model;

/// <summary>
/// The vector instructions the sparse kernels are written for: AVX-512 (16 floats per register,
/// 32 registers), AVX2 with FMA (8 floats, 16 registers: the kernels keep fewer accumulators and
/// transpose in 8 x 8 tiles), or portable code in 16-float vectors that .NET emulates on other
/// CPUs (correct, slow; the auto kernel choice never picks the sparse path there).
/// </summary>
public enum VectorIsa { Portable, Avx2, Avx512 }

public static class KernelVectors
{
    static readonly AsyncLocal<VectorIsa?> forced = new();

    /// <summary>The widest kernels this CPU runs natively.</summary>
    public static VectorIsa Best { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? VectorIsa.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? VectorIsa.Avx2
        : VectorIsa.Portable;

    /// <summary>The kernels of the calling flow: <see cref="Best"/> unless <see cref="Use"/> chose narrower ones.</summary>
    public static VectorIsa Current => forced.Value ?? Best;

    /// <summary>
    /// Runs the sparse kernels started from this flow with <paramref name="isa"/> until the scope
    /// ends, so the narrower paths can be checked and timed on a wider CPU.
    /// </summary>
    public static IDisposable Use(VectorIsa isa)
    {
        if (isa > Best) throw new ArgumentOutOfRangeException(nameof(isa), isa, $"this CPU runs at most {Best}");
        VectorIsa? previous = forced.Value;
        forced.Value = isa;
        return new Scope(previous);
    }

    sealed class Scope(VectorIsa? previous) : IDisposable
    {
        bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            forced.Value = previous;
        }
    }

    /// <summary>One bit per float of <c>p[0..16)</c> that is not ±0 (NaN included, as in <c>v != 0f</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe uint NonzeroMask16(float* p)
    {
        if (Vector512.IsHardwareAccelerated)
            return (uint)~Vector512.Equals(Vector512.Load(p), Vector512<float>.Zero).ExtractMostSignificantBits() & 0xFFFFu;
        uint zero = Vector256.Equals(Vector256.Load(p), Vector256<float>.Zero).ExtractMostSignificantBits()
            | Vector256.Equals(Vector256.Load(p + 8), Vector256<float>.Zero).ExtractMostSignificantBits() << 8;
        return ~zero & 0xFFFFu;
    }
}

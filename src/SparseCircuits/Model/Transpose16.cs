using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SparseCircuits.Model;

/// <summary>
/// 16 x 16 float transposes in AVX-512 registers (unpack 32-bit, unpack 64-bit, two 128-bit lane
/// shuffles), or as four 8 x 8 transposes in AVX2 registers: the sparse kernels keep tokens in
/// vector lanes, so their input is turned from token rows into channel rows and their output
/// back, 64 or 256 values at a time instead of one strided scalar store per value
/// (docs/benchmarks.md "Sparse-aware execution").
/// </summary>
static class Transpose16
{
    /// <summary>
    /// buffer[j * 16 + t] = x[t, j] for the <paramref name="count"/> tokens of a block (rows of
    /// <paramref name="x"/>, <paramref name="columns"/> apart); lanes of missing tokens are 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a loop per call: tiered JIT would run it unoptimised for the first ~30 calls
    public static unsafe void Rows(float* x, int count, int columns, float* buffer, VectorIsa isa)
    {
        if (count < 16)
        {
            new Span<float>(buffer, columns * 16).Clear();
            for (int t = 0; t < count; t++)
            {
                float* row = x + (long)t * columns;
                for (int j = 0; j < columns; j++) buffer[j * 16 + t] = row[j];
            }
            return;
        }
        int j0 = 0;
        if (isa == VectorIsa.Avx2)
        {
            for (; j0 + 8 <= columns; j0 += 8)
            {
                Transpose8(x + j0, columns, buffer + j0 * 16, 16, Vector256<float>.Zero);                    // tokens 0-7
                Transpose8(x + 8L * columns + j0, columns, buffer + j0 * 16 + 8, 16, Vector256<float>.Zero); // tokens 8-15
            }
        }
        else
        {
            for (; j0 + 16 <= columns; j0 += 16)
            {
                float* p = x + j0;
                Store(Vector512.Load(p), Vector512.Load(p + columns), Vector512.Load(p + 2 * columns), Vector512.Load(p + 3 * columns),
                    Vector512.Load(p + 4 * columns), Vector512.Load(p + 5 * columns), Vector512.Load(p + 6 * columns), Vector512.Load(p + 7 * columns),
                    Vector512.Load(p + 8 * columns), Vector512.Load(p + 9 * columns), Vector512.Load(p + 10 * columns), Vector512.Load(p + 11 * columns),
                    Vector512.Load(p + 12 * columns), Vector512.Load(p + 13 * columns), Vector512.Load(p + 14 * columns), Vector512.Load(p + 15 * columns),
                    buffer + j0 * 16, 16, Vector512<float>.Zero);
            }
        }
        for (; j0 < columns; j0++)
            for (int t = 0; t < 16; t++) buffer[j0 * 16 + t] = x[(long)t * columns + j0];
    }

    /// <summary>
    /// Stores the transpose of the 16 x 16 matrix whose row i is <c>a_i</c>, plus <paramref name="add"/>:
    /// <c>destination[j * stride + i] = a_i[j] + add[i]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7,
        Vector512<float> a8, Vector512<float> a9, Vector512<float> a10, Vector512<float> a11,
        Vector512<float> a12, Vector512<float> a13, Vector512<float> a14, Vector512<float> a15,
        float* destination, long stride, Vector512<float> add)
    {
        if (!Avx512F.IsSupported)
        {
            StoreSlowly([a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15], destination, stride, add);
            return;
        }
        // Pairs of rows interleaved: t0 = a0[0] a1[0] a0[1] a1[1] | a0[4] a1[4] ... per 128-bit lane.
        var t0 = Avx512F.UnpackLow(a0, a1); var t1 = Avx512F.UnpackHigh(a0, a1);
        var t2 = Avx512F.UnpackLow(a2, a3); var t3 = Avx512F.UnpackHigh(a2, a3);
        var t4 = Avx512F.UnpackLow(a4, a5); var t5 = Avx512F.UnpackHigh(a4, a5);
        var t6 = Avx512F.UnpackLow(a6, a7); var t7 = Avx512F.UnpackHigh(a6, a7);
        var t8 = Avx512F.UnpackLow(a8, a9); var t9 = Avx512F.UnpackHigh(a8, a9);
        var t10 = Avx512F.UnpackLow(a10, a11); var t11 = Avx512F.UnpackHigh(a10, a11);
        var t12 = Avx512F.UnpackLow(a12, a13); var t13 = Avx512F.UnpackHigh(a12, a13);
        var t14 = Avx512F.UnpackLow(a14, a15); var t15 = Avx512F.UnpackHigh(a14, a15);
        // Then pairs of pairs: each 128-bit lane of u0 is column 4l of rows 0-3, u1 column 4l+1, ...
        var u0 = Low64(t0, t2); var u1 = High64(t0, t2); var u2 = Low64(t1, t3); var u3 = High64(t1, t3);
        var u4 = Low64(t4, t6); var u5 = High64(t4, t6); var u6 = Low64(t5, t7); var u7 = High64(t5, t7);
        var u8 = Low64(t8, t10); var u9 = High64(t8, t10); var u10 = Low64(t9, t11); var u11 = High64(t9, t11);
        var u12 = Low64(t12, t14); var u13 = High64(t12, t14); var u14 = Low64(t13, t15); var u15 = High64(t13, t15);
        // 128-bit lanes gathered across row groups 0-3 / 4-7 and 8-11 / 12-15 ...
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD); var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88); var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88); var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD); var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        // ... and across the two halves: row j of the transpose.
        (Avx512F.Shuffle4x128(v0, v8, 0x88) + add).Store(destination);
        (Avx512F.Shuffle4x128(v1, v9, 0x88) + add).Store(destination + stride);
        (Avx512F.Shuffle4x128(v2, v10, 0x88) + add).Store(destination + 2 * stride);
        (Avx512F.Shuffle4x128(v3, v11, 0x88) + add).Store(destination + 3 * stride);
        (Avx512F.Shuffle4x128(v4, v12, 0x88) + add).Store(destination + 4 * stride);
        (Avx512F.Shuffle4x128(v5, v13, 0x88) + add).Store(destination + 5 * stride);
        (Avx512F.Shuffle4x128(v6, v14, 0x88) + add).Store(destination + 6 * stride);
        (Avx512F.Shuffle4x128(v7, v15, 0x88) + add).Store(destination + 7 * stride);
        (Avx512F.Shuffle4x128(v0, v8, 0xDD) + add).Store(destination + 8 * stride);
        (Avx512F.Shuffle4x128(v1, v9, 0xDD) + add).Store(destination + 9 * stride);
        (Avx512F.Shuffle4x128(v2, v10, 0xDD) + add).Store(destination + 10 * stride);
        (Avx512F.Shuffle4x128(v3, v11, 0xDD) + add).Store(destination + 11 * stride);
        (Avx512F.Shuffle4x128(v4, v12, 0xDD) + add).Store(destination + 12 * stride);
        (Avx512F.Shuffle4x128(v5, v13, 0xDD) + add).Store(destination + 13 * stride);
        (Avx512F.Shuffle4x128(v6, v14, 0xDD) + add).Store(destination + 14 * stride);
        (Avx512F.Shuffle4x128(v7, v15, 0xDD) + add).Store(destination + 15 * stride);
    }

    /// <summary>
    /// The AVX2 form of <see cref="Store"/> from memory: <c>destination[t * stride + i] = tile[i * 16 + t]
    /// + bias[i]</c> for the 16 x 16 <paramref name="tile"/> (rows i, 16 apart); no bias when null.
    /// </summary>
    public static unsafe void StoreTile(float* tile, float* destination, long stride, float* bias)
    {
        Vector256<float> low = bias == null ? Vector256<float>.Zero : Vector256.Load(bias);
        Vector256<float> high = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + 8);
        Transpose8(tile, 16, destination, stride, low);                            // rows 0-7, tokens 0-7
        Transpose8(tile + 8, 16, destination + 8 * stride, stride, low);           // rows 0-7, tokens 8-15
        Transpose8(tile + 128, 16, destination + 8, stride, high);                 // rows 8-15, tokens 0-7
        Transpose8(tile + 136, 16, destination + 8 * stride + 8, stride, high);    // rows 8-15, tokens 8-15
    }

    /// <summary>
    /// <c>destination[j * destinationStride + i] = source[i * sourceStride + j] + add[i]</c> for an
    /// 8 x 8 block, in AVX registers: unpack 32-bit pairs, shuffle 64-bit pairs, swap 128-bit halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Transpose8(float* source, long sourceStride, float* destination, long destinationStride, Vector256<float> add)
    {
        Vector256<float> r0 = Vector256.Load(source), r1 = Vector256.Load(source + sourceStride),
            r2 = Vector256.Load(source + 2 * sourceStride), r3 = Vector256.Load(source + 3 * sourceStride),
            r4 = Vector256.Load(source + 4 * sourceStride), r5 = Vector256.Load(source + 5 * sourceStride),
            r6 = Vector256.Load(source + 6 * sourceStride), r7 = Vector256.Load(source + 7 * sourceStride);
        // t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], ...
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // s0 = column 0 of rows 0-3 | column 4 of rows 0-3, s1 = columns 1 | 5, ...
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        (Avx.Permute2x128(s0, s4, 0x20) + add).Store(destination);
        (Avx.Permute2x128(s1, s5, 0x20) + add).Store(destination + destinationStride);
        (Avx.Permute2x128(s2, s6, 0x20) + add).Store(destination + 2 * destinationStride);
        (Avx.Permute2x128(s3, s7, 0x20) + add).Store(destination + 3 * destinationStride);
        (Avx.Permute2x128(s0, s4, 0x31) + add).Store(destination + 4 * destinationStride);
        (Avx.Permute2x128(s1, s5, 0x31) + add).Store(destination + 5 * destinationStride);
        (Avx.Permute2x128(s2, s6, 0x31) + add).Store(destination + 6 * destinationStride);
        (Avx.Permute2x128(s3, s7, 0x31) + add).Store(destination + 7 * destinationStride);
    }

    /// <summary>The same without AVX-512 (Vector512 emulated): element by element.</summary>
    static unsafe void StoreSlowly(ReadOnlySpan<Vector512<float>> rows, float* destination, long stride, Vector512<float> add)
    {
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) destination[j * stride + i] = rows[i][j] + add[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Low64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> High64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}

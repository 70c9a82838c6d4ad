using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// <c>x Aᵀ (+ bias)</c> over A's nonzeros: the forward (A = W) and the input gradient (A = Wᵀ) of
/// <see cref="SparseLinear"/> (docs/method.md "Sparse-aware execution"). Tokens sit in vector lanes:
/// each block of 16 tokens is transposed into a (columns + 1, 16) buffer (the extra row stays 0 for
/// the layout's padding), then each slice of 16 output rows (<see cref="SlicedRows"/>) is 16
/// accumulators advanced in lockstep, one vector multiply-add per nonzero for 16 tokens, and its
/// 16 x 16 result is transposed back into the tokens' rows. With AVX2 (16 registers of 8 floats)
/// a slice is four passes of 4 rows x 16 tokens (8 accumulators) into a 16 x 16 tile in memory,
/// transposed out in 8 x 8 blocks.
/// </summary>
static class SparseMultiply
{
    const int Block = SlicedRows.Height;

    public static unsafe Tensor Apply(CompressedRows a, Tensor x, Tensor? bias)
    {
        if (x.dim() != 2 || x.shape[1] != a.Columns || x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU)
            throw new ArgumentException($"expected a CPU float32 (N, {a.Columns}) input; got {x.dtype} [{string.Join(", ", x.shape)}]", nameof(x));
        if (bias is not null && (bias.numel() != a.Rows || bias.dtype != ScalarType.Float32))
            throw new ArgumentException($"expected a float32 bias of {a.Rows}; got {bias.dtype} [{string.Join(", ", bias.shape)}]", nameof(bias));
        long n = x.shape[0];
        Tensor result = empty(n, a.Rows, ScalarType.Float32);
        if (n == 0 || a.Rows == 0) return result;
        Tensor input = x.is_contiguous() ? x : x.contiguous();
        Tensor? b = bias is null ? null : bias.is_contiguous() ? bias : bias.contiguous();
        try
        {
            nint inputAddress = TensorMemory.Address(input), outputAddress = TensorMemory.Address(result);
            nint biasAddress = b is null ? 0 : TensorMemory.Address(b);
            SlicedRows sliced = a.Sliced;
            VectorIsa isa = KernelVectors.Current;
            long blocks = (n + Block - 1) / Block;
            // Work per block in scalar-operation units: a vector op per stored entry and the two transposes.
            long work = sliced.Start[sliced.Slices] + sliced.OverflowStart[sliced.Rows] + (long)a.Rows + a.Columns;
            RowParallel.For(blocks, Math.Max(1, work), (first, end) =>
            {
                float* buffer = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)((a.Columns + 1) * Block * sizeof(float)), 64);
                try
                {
                    new Span<float>(buffer + a.Columns * Block, Block).Clear(); // the row padding points at
                    for (long blockIndex = first; blockIndex < end; blockIndex++)
                    {
                        long t0 = blockIndex * Block;
                        int count = (int)Math.Min(Block, n - t0);
                        Transpose16.Rows((float*)inputAddress + t0 * a.Columns, count, a.Columns, buffer, isa);
                        if (isa == VectorIsa.Avx2) MultiplyBlockAvx2(sliced, buffer, (float*)biasAddress, (float*)outputAddress + t0 * a.Rows, count);
                        else MultiplyBlock(sliced, buffer, (float*)biasAddress, (float*)outputAddress + t0 * a.Rows, count);
                    }
                }
                finally
                {
                    System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
                }
            });
            return result;
        }
        finally
        {
            if (!ReferenceEquals(input, x)) input.Dispose();
            if (b is not null && !ReferenceEquals(b, bias)) b.Dispose();
        }
    }

    /// <summary>
    /// One block of <paramref name="count"/> ≤ 16 tokens: output[t, r] = Σ value × buffer[column, t]
    /// (+ bias[r]) for every row r. The 16 accumulators are named locals so they stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void MultiplyBlock(SlicedRows a, float* buffer, float* bias, float* output, int count)
    {
        int rows = a.Rows;
        float* tile = stackalloc float[Block * Block];
        fixed (int* offsets = a.Offset, sliceStart = a.Start)
        fixed (float* values = a.Value)
        {
            for (int s = 0; s < a.Slices; s++)
            {
                int* o = offsets + sliceStart[s];
                float* v = values + sliceStart[s];
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default,
                    c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
                for (int k = a.Positions(s); k > 0; k--, o += Block, v += Block)
                {
                    c0 = Fma(v, o, 0, buffer, c0); c1 = Fma(v, o, 1, buffer, c1); c2 = Fma(v, o, 2, buffer, c2); c3 = Fma(v, o, 3, buffer, c3);
                    c4 = Fma(v, o, 4, buffer, c4); c5 = Fma(v, o, 5, buffer, c5); c6 = Fma(v, o, 6, buffer, c6); c7 = Fma(v, o, 7, buffer, c7);
                    c8 = Fma(v, o, 8, buffer, c8); c9 = Fma(v, o, 9, buffer, c9); c10 = Fma(v, o, 10, buffer, c10); c11 = Fma(v, o, 11, buffer, c11);
                    c12 = Fma(v, o, 12, buffer, c12); c13 = Fma(v, o, 13, buffer, c13); c14 = Fma(v, o, 14, buffer, c14); c15 = Fma(v, o, 15, buffer, c15);
                }
                int r0 = s * Block, height = Math.Min(Block, rows - r0);
                bool full = count == Block && height == Block;
                if (a.Overflows[s] || !full)
                {
                    // Rare paths go through memory: the slice's rows with overflow entries, partial tiles.
                    c0.Store(tile); c1.Store(tile + 16); c2.Store(tile + 32); c3.Store(tile + 48);
                    c4.Store(tile + 64); c5.Store(tile + 80); c6.Store(tile + 96); c7.Store(tile + 112);
                    c8.Store(tile + 128); c9.Store(tile + 144); c10.Store(tile + 160); c11.Store(tile + 176);
                    c12.Store(tile + 192); c13.Store(tile + 208); c14.Store(tile + 224); c15.Store(tile + 240);
                    if (a.Overflows[s]) AddOverflow(a, s, buffer, tile);
                    if (!full)
                    {
                        StorePartial(tile, output + r0, rows, count, height, bias == null ? null : bias + r0);
                        continue;
                    }
                    c0 = Vector512.Load(tile); c1 = Vector512.Load(tile + 16); c2 = Vector512.Load(tile + 32); c3 = Vector512.Load(tile + 48);
                    c4 = Vector512.Load(tile + 64); c5 = Vector512.Load(tile + 80); c6 = Vector512.Load(tile + 96); c7 = Vector512.Load(tile + 112);
                    c8 = Vector512.Load(tile + 128); c9 = Vector512.Load(tile + 144); c10 = Vector512.Load(tile + 160); c11 = Vector512.Load(tile + 176);
                    c12 = Vector512.Load(tile + 192); c13 = Vector512.Load(tile + 208); c14 = Vector512.Load(tile + 224); c15 = Vector512.Load(tile + 240);
                }
                Transpose16.Store(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15,
                    output + r0, rows, bias == null ? Vector512<float>.Zero : Vector512.Load(bias + r0));
            }
        }
    }

    /// <summary>
    /// The AVX2 form of <see cref="MultiplyBlock"/>: each slice in four passes of 4 rows, each row's
    /// 16 tokens in two 8-float accumulators (8 in all, leaving registers for the broadcast value
    /// and the loads), into a 16 x 16 tile that is transposed out in 8 x 8 blocks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void MultiplyBlockAvx2(SlicedRows a, float* buffer, float* bias, float* output, int count)
    {
        int rows = a.Rows;
        float* tile = stackalloc float[Block * Block];
        fixed (int* offsets = a.Offset, sliceStart = a.Start)
        fixed (float* values = a.Value)
        {
            for (int s = 0; s < a.Slices; s++)
            {
                int positions = a.Positions(s);
                for (int g = 0; g < Block; g += 4)
                {
                    int* o = offsets + sliceStart[s] + g;
                    float* v = values + sliceStart[s] + g;
                    Vector256<float> c0 = default, d0 = default, c1 = default, d1 = default, c2 = default, d2 = default, c3 = default, d3 = default;
                    for (int k = positions; k > 0; k--, o += Block, v += Block)
                    {
                        Vector256<float> w = Vector256.Create(v[0]);
                        float* p = buffer + o[0];
                        c0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p), c0); d0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p + 8), d0);
                        w = Vector256.Create(v[1]); p = buffer + o[1];
                        c1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p), c1); d1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p + 8), d1);
                        w = Vector256.Create(v[2]); p = buffer + o[2];
                        c2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p), c2); d2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p + 8), d2);
                        w = Vector256.Create(v[3]); p = buffer + o[3];
                        c3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p), c3); d3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(p + 8), d3);
                    }
                    float* t = tile + g * Block;
                    c0.Store(t); d0.Store(t + 8); c1.Store(t + 16); d1.Store(t + 24);
                    c2.Store(t + 32); d2.Store(t + 40); c3.Store(t + 48); d3.Store(t + 56);
                }
                int r0 = s * Block, height = Math.Min(Block, rows - r0);
                if (a.Overflows[s]) AddOverflow(a, s, buffer, tile);
                if (count == Block && height == Block) Transpose16.StoreTile(tile, output + r0, rows, bias == null ? null : bias + r0);
                else StorePartial(tile, output + r0, rows, count, height, bias == null ? null : bias + r0);
            }
        }
    }

    /// <summary>Adds the overflow entries of slice <paramref name="s"/>'s rows to the tile's rows (rare: rows longer than the slice's positions).</summary>
    static unsafe void AddOverflow(SlicedRows a, int s, float* buffer, float* tile)
    {
        int r0 = s * Block, height = Math.Min(Block, a.Rows - r0);
        for (int i = 0; i < height; i++)
            for (int e = a.OverflowStart[r0 + i]; e < a.OverflowStart[r0 + i + 1]; e++)
            {
                var value = Vector256.Create(a.OverflowValue[e]);
                float* from = buffer + a.OverflowOffset[e], to = tile + i * Block;
                Vector256.FusedMultiplyAdd(value, Vector256.Load(from), Vector256.Load(to)).Store(to);
                Vector256.FusedMultiplyAdd(value, Vector256.Load(from + 8), Vector256.Load(to + 8)).Store(to + 8);
            }
    }

    /// <summary>output[t, i] = tile[i, t] (+ bias[i]) for the block's first <paramref name="count"/> tokens and <paramref name="height"/> rows.</summary>
    static unsafe void StorePartial(float* tile, float* output, int rows, int count, int height, float* bias)
    {
        for (int t = 0; t < count; t++)
        {
            float* row = output + (long)t * rows;
            for (int i = 0; i < height; i++) row[i] = tile[i * Block + t] + (bias == null ? 0f : bias[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector512<float> Fma(float* value, int* offset, int lane, float* buffer, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(Vector512.Create(value[lane]), Vector512.Load(buffer + offset[lane]), acc);
}

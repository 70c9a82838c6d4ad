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
/// 16 x 16 result is transposed back into the tokens' rows.
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
                        Transpose16.Rows((float*)inputAddress + t0 * a.Columns, count, a.Columns, buffer);
                        MultiplyBlock(sliced, buffer, (float*)biasAddress, (float*)outputAddress + t0 * a.Rows, count);
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
        fixed (int* offsets = a.Offset, sliceStart = a.Start, overflowStart = a.OverflowStart, overflowOffset = a.OverflowOffset)
        fixed (float* values = a.Value, overflowValue = a.OverflowValue)
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
                    if (a.Overflows[s])
                        for (int i = 0; i < height; i++)
                        {
                            Vector512<float> acc = Vector512.Load(tile + i * Block);
                            for (int e = overflowStart[r0 + i]; e < overflowStart[r0 + i + 1]; e++)
                                acc = Vector512.FusedMultiplyAdd(Vector512.Create(overflowValue[e]), Vector512.Load(buffer + overflowOffset[e]), acc);
                            acc.Store(tile + i * Block);
                        }
                    if (!full)
                    {
                        for (int t = 0; t < count; t++)
                        {
                            float* row = output + (long)t * rows + r0;
                            for (int i = 0; i < height; i++) row[i] = tile[i * Block + t] + (bias == null ? 0f : bias[r0 + i]);
                        }
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector512<float> Fma(float* value, int* offset, int lane, float* buffer, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(Vector512.Create(value[lane]), Vector512.Load(buffer + offset[lane]), acc);
}

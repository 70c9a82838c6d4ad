using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// The exact weight gradient <c>dW = dyᵀ x = Σ_t dy_t ⊗ x_t</c> over the nonzeros of the sparser
/// operand (docs/method.md "Sparse-aware execution"). Where a layer's input went through AbsTopK,
/// each token's x has k of its in channels nonzero, and where its output goes into AbsTopK, each
/// token's dy has the kept channels only: the sum then needs a fraction of the dense
/// multiply-adds, and every entry of dW (zero weights included) still gets its gradient.
/// <para>
/// <see cref="OuterSum"/> computes <c>C = aᵀ b</c> for a sparse (N, P) and a dense (N, Q): tokens
/// in blocks of 64, each block's nonzeros of a grouped by column p (a per-block compressed-column
/// list), then per 128-wide chunk of Q (eight vectors in registers) and per p, the block's
/// entries add value × b's chunk row into C's row p. A chunk of b's block (32 KiB, packed) stays
/// in L1, C's chunk rows in L2.
/// </para>
/// </summary>
public static class SparseWeightGradient
{
    const int TokenBlock = 64;
    const int ChunkVectors = 8;
    const int Chunk = ChunkVectors * 16;

    /// <summary>
    /// The largest fill (<see cref="Estimate"/>) at which the sparse sum measured faster than
    /// libtorch's dense dW in <paramref name="precision"/> (bench <c>layer-kernels</c>, one core;
    /// docs/benchmarks.md "Sparse-aware execution"). AVX-512 (Zen 5): at fill 1/4 and width 512,
    /// 2.9-3.3x fp32's speed but 0.75-0.87x bf16's, whose GEMM runs about four times fp32's. AVX2
    /// (Zen 3): 1.24-1.30x fp32 at fill 1/4 and 1.9-2.3x at 1/8, so even at about 0.3 (time grows
    /// with the fill); bf16 has no native GEMM there and gets fp32's bound.
    /// </summary>
    public static double MaxFill(MatmulPrecision precision) => MaxFill(precision, KernelVectors.Current);

    public static double MaxFill(MatmulPrecision precision, VectorIsa isa) => isa switch
    {
        VectorIsa.Avx512 => precision == MatmulPrecision.Fp32 ? 0.5 : 0.15,
        VectorIsa.Avx2 => 0.3,
        _ => 0,
    };

    /// <summary>
    /// Fraction of the dense multiply-adds the sparse sum does (the sparser operand's share of
    /// nonzeros), estimated on the first 256 tokens; 1 when the layer has too few tokens to sample.
    /// </summary>
    public static (double Fill, bool OutputSide) Estimate(Tensor dy, Tensor x)
    {
        long n = dy.shape[0];
        if (n == 0) return (1, true);
        long m = Math.Min(n, 256);
        using Tensor dySample = dy.narrow(0, 0, m), xSample = x.narrow(0, 0, m);
        double dyFill = dySample.count_nonzero().item<long>() / (double)dySample.numel();
        double xFill = xSample.count_nonzero().item<long>() / (double)xSample.numel();
        // Equal work either way at equal fill; the side with fewer columns keeps C's chunk rows
        // (columns x 512 bytes) in L2, measured ~1.7x faster for a (2048, 512) weight.
        double dyCost = dyFill * (dy.shape[1] > 1024 ? 1.5 : 1), xCost = xFill * (x.shape[1] > 1024 ? 1.5 : 1);
        return dyCost <= xCost ? (dyFill, true) : (xFill, false);
    }

    /// <summary>
    /// dyᵀ x (out, in) for dy (N, out) and x (N, in), both CPU float32, summed in float32 over the
    /// nonzeros of dy or of x (<paramref name="outputSide"/>: dy).
    /// </summary>
    public static Tensor Compute(Tensor dy, Tensor x, bool outputSide)
    {
        if (outputSide) return OuterSum(dy, x);
        using Tensor transposed = OuterSum(x, dy); // (in, out)
        return transposed.t().contiguous();
    }

    /// <summary><c>aᵀ b</c> (P, Q) for a (N, P) with mostly zero entries and b (N, Q), float32 on CPU.</summary>
    public static unsafe Tensor OuterSum(Tensor a, Tensor b)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[0] != b.shape[0] || a.dtype != ScalarType.Float32 || b.dtype != ScalarType.Float32
            || a.device_type != DeviceType.CPU || b.device_type != DeviceType.CPU || a.shape[1] >= int.MaxValue || b.shape[1] >= int.MaxValue / TokenBlock)
            throw new ArgumentException($"expected CPU float32 (N, P) and (N, Q); got {a.dtype} [{string.Join(", ", a.shape)}] and {b.dtype} [{string.Join(", ", b.shape)}]");
        long n = a.shape[0];
        int p = (int)a.shape[1], q = (int)b.shape[1];
        Tensor result = zeros(p, q, ScalarType.Float32);
        if (n == 0 || p == 0 || q == 0) return result;
        Tensor left = a.is_contiguous() ? a : a.contiguous(), right = b.is_contiguous() ? b : b.contiguous();
        try
        {
            nint aAddress = TensorMemory.Address(left), bAddress = TensorMemory.Address(right), cAddress = TensorMemory.Address(result);
            int blocks = (int)((n + TokenBlock - 1) / TokenBlock);
            var columns = new BlockColumns[blocks];
            try
            {
                RowParallel.For(blocks, (long)TokenBlock * p, (first, end) =>
                {
                    for (long block = first; block < end; block++)
                    {
                        long t0 = block * TokenBlock;
                        columns[block] = BlockColumns.From((float*)aAddress + t0 * p, (int)Math.Min(TokenBlock, n - t0), p);
                    }
                });
                long nonzeros = columns.Sum(c => c.Count(p));
                int chunks = (q + Chunk - 1) / Chunk;
                VectorIsa isa = KernelVectors.Current;
                RowParallel.For(chunks, Math.Max(1, nonzeros * Chunk / chunks),
                    (first, end) => AddChunks(columns, (int)first, (int)end, (float*)bAddress, (float*)cAddress, n, p, q, isa));
            }
            finally
            {
                foreach (BlockColumns c in columns)
                    if (c.Start != null) c.Free();
            }
            return result;
        }
        finally
        {
            if (!ReferenceEquals(left, a)) left.Dispose();
            if (!ReferenceEquals(right, b)) right.Dispose();
        }
    }

    /// <summary>C's columns of chunks [first, end) over all token blocks.</summary>
    static unsafe void AddChunks(BlockColumns[] columns, int first, int end, float* b, float* c, long n, int p, int q, VectorIsa isa)
    {
        // b's rows are q apart: a chunk of 64 of them maps to a few L1 sets (q a power of two),
        // so each block's chunk is first packed into a contiguous (64, 128) buffer.
        float* packed = (float*)NativeMemory.AlignedAlloc(TokenBlock * Chunk * sizeof(float), 64);
        try
        {
            for (int chunk = first; chunk < end; chunk++)
            {
                int c0 = chunk * Chunk, width = Math.Min(Chunk, q - c0);
                for (int block = 0; block < columns.Length; block++)
                {
                    long t0 = (long)block * TokenBlock;
                    int count = (int)Math.Min(TokenBlock, n - t0);
                    float* source = b + t0 * q + c0;
                    for (int t = 0; t < count; t++)
                        new ReadOnlySpan<float>(source + (long)t * q, width).CopyTo(new Span<float>(packed + t * Chunk, width));
                    if (isa == VectorIsa.Avx2) AddBlockAvx2(columns[block], packed, c + c0, p, q, width);
                    else AddBlock(columns[block], packed, c + c0, p, q, width);
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }

    /// <summary>
    /// One token block's nonzeros of a, by column: column j's are <c>[Start[j], Start[j+1])</c>, at
    /// packed-chunk row offsets <c>Offset</c> (token × 128). Native memory: a dW builds megabytes of
    /// these per call, which as managed arrays would drive a garbage collection every few calls.
    /// </summary>
    readonly unsafe struct BlockColumns(int* start, int* offset, float* value)
    {
        public readonly int* Start = start, Offset = offset;
        public readonly float* Value = value;

        /// <summary>Reads <paramref name="count"/> rows of a (width <paramref name="p"/>).</summary>
        public static BlockColumns From(float* a, int count, int p)
        {
            int* start = (int*)NativeMemory.AllocZeroed((nuint)(p + 1), sizeof(int));
            int total = 0;
            for (int t = 0; t < count; t++)
            {
                float* row = a + (long)t * p;
                int j = 0;
                for (; j <= p - 16; j += 16)
                {
                    uint mask = KernelVectors.NonzeroMask16(row + j);
                    total += System.Numerics.BitOperations.PopCount(mask);
                    while (mask != 0)
                    {
                        start[j + 1 + System.Numerics.BitOperations.TrailingZeroCount(mask)]++;
                        mask &= mask - 1;
                    }
                }
                for (; j < p; j++)
                    if (row[j] != 0f) { start[j + 1]++; total++; }
            }
            for (int j = 0; j < p; j++) start[j + 1] += start[j];
            int* offset = (int*)NativeMemory.Alloc((nuint)Math.Max(1, total), sizeof(int));
            float* value = (float*)NativeMemory.Alloc((nuint)Math.Max(1, total), sizeof(float));
            // start[j] serves as column j's cursor (it ends at the old start[j+1]), then shifts back.
            // Rows in order, so each column's entries are in token order.
            for (int t = 0; t < count; t++)
            {
                float* row = a + (long)t * p;
                int j = 0;
                for (; j <= p - 16; j += 16)
                {
                    uint mask = KernelVectors.NonzeroMask16(row + j);
                    while (mask != 0)
                    {
                        int i = j + System.Numerics.BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        int at = start[i]++;
                        (offset[at], value[at]) = (t * Chunk, row[i]);
                    }
                }
                for (; j < p; j++)
                    if (row[j] != 0f)
                    {
                        int at = start[j]++;
                        (offset[at], value[at]) = (t * Chunk, row[j]);
                    }
            }
            for (int j = p; j > 0; j--) start[j] = start[j - 1];
            start[0] = 0;
            return new BlockColumns(start, offset, value);
        }

        public long Count(int p) => Start[p];

        public void Free()
        {
            NativeMemory.Free(Start);
            NativeMemory.Free(Offset);
            NativeMemory.Free(Value);
        }
    }

    /// <summary>
    /// C[j, c0 .. c0 + width) += Σ value × b[token, c0 .. c0 + width) over the block's entries of
    /// column j, for every j; <paramref name="b"/> is the block's packed chunk (rows 128 apart),
    /// <paramref name="c"/> points at column c0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void AddBlock(BlockColumns block, float* b, float* c, int p, int q, int width)
    {
        int* start = block.Start, offset = block.Offset;
        float* value = block.Value;
        {
            for (int j = 0; j < p; j++)
            {
                int e0 = start[j], e1 = start[j + 1];
                if (e0 == e1) continue;
                float* row = c + (long)j * q;
                if (width == Chunk)
                {
                    // Eight accumulators in registers: one broadcast feeds eight multiply-adds.
                    Vector512<float> a0 = Vector512.Load(row), a1 = Vector512.Load(row + 16), a2 = Vector512.Load(row + 32), a3 = Vector512.Load(row + 48),
                        a4 = Vector512.Load(row + 64), a5 = Vector512.Load(row + 80), a6 = Vector512.Load(row + 96), a7 = Vector512.Load(row + 112);
                    for (int e = e0; e < e1; e++)
                    {
                        Vector512<float> w = Vector512.Create(value[e]);
                        float* br = b + offset[e];
                        a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br), a0);
                        a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 16), a1);
                        a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 32), a2);
                        a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 48), a3);
                        a4 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 64), a4);
                        a5 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 80), a5);
                        a6 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 96), a6);
                        a7 = Vector512.FusedMultiplyAdd(w, Vector512.Load(br + 112), a7);
                    }
                    a0.Store(row); a1.Store(row + 16); a2.Store(row + 32); a3.Store(row + 48);
                    a4.Store(row + 64); a5.Store(row + 80); a6.Store(row + 96); a7.Store(row + 112);
                    continue;
                }
                AddNarrow(row, b, offset, value, e0, e1, 0, width); // the last, narrower chunk
            }
        }
    }

    /// <summary>
    /// The AVX2 form of <see cref="AddBlock"/>: a full chunk in two halves of 64 columns, eight
    /// 8-float accumulators each (AVX2 has 16 registers, so 16 accumulators would spill).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void AddBlockAvx2(BlockColumns block, float* b, float* c, int p, int q, int width)
    {
        int* start = block.Start, offset = block.Offset;
        float* value = block.Value;
        for (int j = 0; j < p; j++)
        {
            int e0 = start[j], e1 = start[j + 1];
            if (e0 == e1) continue;
            float* row = c + (long)j * q;
            int v0 = 0;
            for (; v0 + 64 <= width; v0 += 64)
            {
                float* r = row + v0;
                Vector256<float> a0 = Vector256.Load(r), a1 = Vector256.Load(r + 8), a2 = Vector256.Load(r + 16), a3 = Vector256.Load(r + 24),
                    a4 = Vector256.Load(r + 32), a5 = Vector256.Load(r + 40), a6 = Vector256.Load(r + 48), a7 = Vector256.Load(r + 56);
                for (int e = e0; e < e1; e++)
                {
                    Vector256<float> w = Vector256.Create(value[e]);
                    float* br = b + offset[e] + v0;
                    a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br), a0);
                    a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 24), a3);
                    a4 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 32), a4);
                    a5 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 40), a5);
                    a6 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 48), a6);
                    a7 = Vector256.FusedMultiplyAdd(w, Vector256.Load(br + 56), a7);
                }
                a0.Store(r); a1.Store(r + 8); a2.Store(r + 16); a3.Store(r + 24);
                a4.Store(r + 32); a5.Store(r + 40); a6.Store(r + 48); a7.Store(r + 56);
            }
            AddNarrow(row, b, offset, value, e0, e1, v0, width);
        }
    }

    /// <summary>
    /// <c>row[v0 .. width) += Σ value × b[offset ..]</c> over entries [e0, e1), 8 columns at a time
    /// then single ones: the columns of a chunk narrower than the kernel's accumulators.
    /// </summary>
    static unsafe void AddNarrow(float* row, float* b, int* offset, float* value, int e0, int e1, int v0, int width)
    {
        for (; v0 + 8 <= width; v0 += 8)
        {
            Vector256<float> acc = Vector256.Load(row + v0);
            for (int e = e0; e < e1; e++)
                acc = Vector256.FusedMultiplyAdd(Vector256.Create(value[e]), Vector256.Load(b + offset[e] + v0), acc);
            acc.Store(row + v0);
        }
        for (; v0 < width; v0++)
        {
            float sum = row[v0];
            for (int e = e0; e < e1; e++) sum = MathF.FusedMultiplyAdd(value[e], b[offset[e] + v0], sum);
            row[v0] = sum;
        }
    }
}

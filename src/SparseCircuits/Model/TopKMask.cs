using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// The one selection behind activation sparsity (AbsTopK) and the weight projection: per row (the
/// last dimension) mark the entries that are not among the k largest, exactly width - k per row,
/// ties at the cut-off kept lowest index first, so the kept set is a function of the values alone.
/// <para>
/// On CPU float32 it runs as a C# kernel: each row's k-th largest value is found bit by bit on the
/// float's bit pattern (at most 32 vectorised counting passes, no sort, no temporaries), then one
/// pass writes the mask. libtorch's <c>topk</c> + compare + tie check cost a third of a training step
/// of <c>small</c> (docs/benchmarks.md). Other devices and dtypes use the libtorch path
/// (<see cref="Reference"/>), which the tests also compare the kernel against.
/// </para>
/// </summary>
public static class TopKMask
{
    /// <summary>
    /// True for the entries of <paramref name="values"/> outside the <paramref name="k"/> largest
    /// of their row; ranked by |x| when <paramref name="byMagnitude"/>, else by signed value. NaN
    /// ranks above every number (as in libtorch's topk).
    /// </summary>
    public static Tensor Drop(Tensor values, long k, bool byMagnitude)
    {
        long width = values.shape[^1];
        if (k < 0 || k > width) throw new ArgumentOutOfRangeException(nameof(k), k, $"must be in [0, {width}]");
        if (values.device_type != DeviceType.CPU || values.dtype != ScalarType.Float32 || width > int.MaxValue)
            return Reference(values, k, byMagnitude);
        return Kernel(values, (int)k, byMagnitude, kept: null);
    }

    /// <summary>
    /// <paramref name="values"/> with the entries outside the <paramref name="k"/> largest of their row
    /// set to 0, and the drop mask of <see cref="Drop"/> (for a backward pass); on CPU float32 the
    /// zeroed copy is written by the selection kernel while each row is in cache. No autograd.
    /// </summary>
    public static (Tensor Kept, Tensor Drop) Keep(Tensor values, long k, bool byMagnitude)
    {
        long width = values.shape[^1];
        if (k < 0 || k > width) throw new ArgumentOutOfRangeException(nameof(k), k, $"must be in [0, {width}]");
        if (values.device_type != DeviceType.CPU || values.dtype != ScalarType.Float32 || width > int.MaxValue)
        {
            using var _ = no_grad();
            using Scalar zero = 0.0;
            Tensor drop = Reference(values, k, byMagnitude);
            return (values.masked_fill(drop, zero), drop);
        }
        Tensor kept = empty(values.shape, ScalarType.Float32);
        return (kept, Kernel(values, (int)k, byMagnitude, kept));
    }

    /// <summary>
    /// <paramref name="values"/> with 0 where <paramref name="drop"/> is true (same shape): the
    /// backward of <see cref="Keep"/>. CPU float32 runs in C#; anything else is <c>masked_fill</c>.
    /// </summary>
    public static unsafe Tensor ZeroDropped(Tensor values, Tensor drop)
    {
        if (values.device_type != DeviceType.CPU || values.dtype != ScalarType.Float32 || drop.dtype != ScalarType.Bool
            || !values.shape.SequenceEqual(drop.shape) || !drop.is_contiguous() || values.numel() == 0 || values.shape[^1] > int.MaxValue)
        {
            using var _ = no_grad();
            using Scalar zero = 0.0;
            return values.masked_fill(drop, zero);
        }
        Tensor source = values.is_contiguous() ? values : values.contiguous();
        try
        {
            Tensor result = empty(values.shape, ScalarType.Float32);
            int width = (int)values.shape[^1];
            nint input = TensorMemory.Address(source), mask = TensorMemory.Address(drop), output = TensorMemory.Address(result);
            RowParallel.For(values.numel() / width, width, (first, end) =>
            {
                for (long r = first; r < end; r++)
                    ZeroDroppedRow((float*)input + r * width, (bool*)mask + r * width, width, (float*)output + r * width);
            });
            return result;
        }
        finally
        {
            if (!ReferenceEquals(source, values)) source.Dispose();
        }
    }

    /// <summary>The same selection with libtorch ops (any device and dtype).</summary>
    public static Tensor Reference(Tensor values, long k, bool byMagnitude)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long width = values.shape[^1], rows = values.numel() / Math.Max(width, 1);
        if (k == 0) return ones_like(values, ScalarType.Bool).MoveToOuterDisposeScope();
        Tensor ranked = byMagnitude ? values.abs() : values;
        // topk selects without a full sort; asking for the smaller side keeps its output short.
        Tensor kth = k <= width / 2
            ? ranked.topk((int)k, dim: -1, largest: true, sorted: false).values.amin([-1], keepdim: true)
            : ranked.topk((int)(width - k + 1), dim: -1, largest: false, sorted: false).values.amax([-1], keepdim: true);
        Tensor below = ranked < kth;
        if (below.sum().item<long>() == rows * (width - k)) return below.MoveToOuterDisposeScope(); // no ties at the cut-off
        // Entries equal to the cut-off fill the slots left after the ones above it, lowest index first.
        Tensor tied = ranked == kth;
        Tensor above = below.logical_or(tied).logical_not_();
        Tensor tiedSlots = k - above.sum([-1], keepdim: true);
        return below.logical_or_(tied.logical_and(tied.cumsum(-1) > tiedSlots)).MoveToOuterDisposeScope();
    }

    /// <summary>The drop mask; with <paramref name="kept"/>, also the zeroed copy written into it.</summary>
    static unsafe Tensor Kernel(Tensor values, int k, bool byMagnitude, Tensor? kept)
    {
        Tensor source = values.is_contiguous() ? values : values.contiguous();
        try
        {
            Tensor drop = empty(values.shape, ScalarType.Bool);
            long numel = values.numel();
            if (numel == 0) return drop;
            int width = (int)values.shape[^1];
            long rows = numel / width;
            float* input = (float*)TensorMemory.Address(source);
            bool* output = (bool*)TensorMemory.Address(drop);
            // Native memory does not move, so raw pointers may cross into the worker threads.
            nint inputAddress = (nint)input, outputAddress = (nint)output, keptAddress = kept is null ? 0 : TensorMemory.Address(kept);
            RowParallel.For(rows, width, (first, end) =>
            {
                float* rowsIn = (float*)inputAddress;
                bool* rowsOut = (bool*)outputAddress;
                for (long r = first; r < end; r++)
                {
                    SelectRow(rowsIn + r * width, width, k, byMagnitude, rowsOut + r * width);
                    if (keptAddress != 0) ZeroDroppedRow(rowsIn + r * width, rowsOut + r * width, width, (float*)keptAddress + r * width);
                }
            });
            return drop;
        }
        finally
        {
            if (!ReferenceEquals(source, values)) source.Dispose();
        }
    }

    /// <summary>
    /// Writes the drop mask of one row. Floats are compared through order-preserving unsigned
    /// keys, so the k-th largest key is built from the top bit down: a bit is set when at least k
    /// keys are at or above the prefix with it set. The search stops early at the first prefix
    /// with exactly k keys at or above it (the bit where the k-th and (k+1)-th largest differ):
    /// for real-valued data that is about half of the 32 passes, and there are no ties to resolve.
    /// </summary>
    static unsafe void SelectRow(float* row, int width, int k, bool byMagnitude, bool* drop)
    {
        if (k == 0)
        {
            new Span<bool>(drop, width).Fill(true);
            return;
        }
        uint* bits = (uint*)row;
        uint threshold = 0;
        for (int bit = byMagnitude ? 30 : 31; bit >= 0; bit--) // magnitude keys never set bit 31
        {
            uint candidate = threshold | (1u << bit);
            int count = CountAtLeast(bits, width, candidate, byMagnitude);
            if (count == k)
            {
                WriteBelow(bits, width, candidate, byMagnitude, drop);
                return;
            }
            if (count > k) threshold = candidate;
        }
        // Ties at the cut-off: keys above the threshold stay; keys equal to it fill the remaining slots in index order.
        int tiedSlots = k - (threshold == uint.MaxValue ? 0 : CountAtLeast(bits, width, threshold + 1, byMagnitude));
        for (int i = 0; i < width; i++)
        {
            uint key = Key(bits[i], byMagnitude);
            drop[i] = key < threshold || (key == threshold && tiedSlots-- <= 0);
        }
    }

    /// <summary>drop[i] = key(i) &lt; <paramref name="cut"/>, sixteen or eight at a time where the CPU allows.</summary>
    static unsafe void WriteBelow(uint* bits, int width, uint cut, bool byMagnitude, bool* drop)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Bmi2.X64.IsSupported)
        {
            var threshold = Vector512.Create(cut);
            for (; i <= width - 16; i += 16)
            {
                ulong below = Vector512.LessThan(Key(Vector512.Load(bits + i), byMagnitude), threshold).ExtractMostSignificantBits();
                // One bit per lane becomes one byte (0 or 1) per bool.
                *(ulong*)(drop + i) = Bmi2.X64.ParallelBitDeposit(below & 0xFF, 0x0101_0101_0101_0101ul);
                *(ulong*)(drop + i + 8) = Bmi2.X64.ParallelBitDeposit(below >> 8, 0x0101_0101_0101_0101ul);
            }
        }
        else if (Vector256.IsHardwareAccelerated && Bmi2.X64.IsSupported)
        {
            var threshold = Vector256.Create(cut);
            for (; i <= width - 8; i += 8)
            {
                ulong below = Vector256.LessThan(Key(Vector256.Load(bits + i), byMagnitude), threshold).ExtractMostSignificantBits();
                *(ulong*)(drop + i) = Bmi2.X64.ParallelBitDeposit(below, 0x0101_0101_0101_0101ul);
            }
        }
        for (; i < width; i++) drop[i] = Key(bits[i], byMagnitude) < cut;
    }

    /// <summary>output[i] = drop[i] ? 0 : row[i], sixteen or eight at a time where the CPU allows.</summary>
    static unsafe void ZeroDroppedRow(float* row, bool* drop, int width, float* output)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            for (; i <= width - 16; i += 16)
            {
                // Sixteen bools (bytes 0/1) widen to sixteen lanes; a lane is kept where its bool is 0.
                Vector512<uint> dropped = Avx512F.ConvertToVector512UInt32(Vector128.Load((byte*)drop + i));
                Vector512.ConditionalSelect(Vector512.Equals(dropped, Vector512<uint>.Zero).AsSingle(), Vector512.Load(row + i), Vector512<float>.Zero)
                    .Store(output + i);
            }
        }
        else if (Avx2.IsSupported)
        {
            for (; i <= width - 8; i += 8)
            {
                Vector256<int> dropped = Avx2.ConvertToVector256Int32((byte*)drop + i);
                Vector256.ConditionalSelect(Vector256.Equals(dropped, Vector256<int>.Zero).AsSingle(), Vector256.Load(row + i), Vector256<float>.Zero)
                    .Store(output + i);
            }
        }
        for (; i < width; i++) output[i] = drop[i] ? 0f : row[i];
    }

    /// <summary>
    /// Order-preserving key of a float's bits: |x| orders like its bits without the sign; signed
    /// values order like bits with the sign flipped (positives) or all bits flipped (negatives),
    /// after -0 becomes +0 (they are equal, so they tie).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint Key(uint bits, bool byMagnitude)
    {
        if (byMagnitude) return bits & 0x7FFF_FFFFu;
        if (bits == NegativeZero) bits = 0;
        return bits ^ ((uint)((int)bits >> 31) | 0x8000_0000u);
    }

    const uint NegativeZero = 0x8000_0000u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<uint> Key(Vector512<uint> bits, bool byMagnitude)
    {
        if (byMagnitude) return bits & Vector512.Create(0x7FFF_FFFFu);
        bits = Vector512.AndNot(bits, Vector512.Equals(bits, Vector512.Create(NegativeZero)));
        return bits ^ (Vector512.ShiftRightArithmetic(bits.AsInt32(), 31).AsUInt32() | Vector512.Create(0x8000_0000u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<uint> Key(Vector256<uint> bits, bool byMagnitude)
    {
        if (byMagnitude) return bits & Vector256.Create(0x7FFF_FFFFu);
        bits = Vector256.AndNot(bits, Vector256.Equals(bits, Vector256.Create(NegativeZero)));
        return bits ^ (Vector256.ShiftRightArithmetic(bits.AsInt32(), 31).AsUInt32() | Vector256.Create(0x8000_0000u));
    }

    /// <summary>How many keys of the row are &gt;= <paramref name="candidate"/>.</summary>
    static unsafe int CountAtLeast(uint* bits, int width, uint candidate, bool byMagnitude)
    {
        int i = 0, count = 0;
        if (Vector512.IsHardwareAccelerated && width >= 16)
        {
            var threshold = Vector512.Create(candidate);
            var counts = Vector512<uint>.Zero;
            for (; i <= width - 16; i += 16) // true lanes are all ones (= -1), so subtracting counts them
                counts -= Vector512.GreaterThanOrEqual(Key(Vector512.Load(bits + i), byMagnitude), threshold);
            count = (int)Vector512.Sum(counts);
        }
        else if (Vector256.IsHardwareAccelerated && width >= 8)
        {
            var threshold = Vector256.Create(candidate);
            var counts = Vector256<uint>.Zero;
            for (; i <= width - 8; i += 8)
                counts -= Vector256.GreaterThanOrEqual(Key(Vector256.Load(bits + i), byMagnitude), threshold);
            count = (int)Vector256.Sum(counts);
        }
        for (; i < width; i++)
            if (Key(bits[i], byMagnitude) >= candidate) count++;
        return count;
    }
}

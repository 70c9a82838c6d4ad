using System.Numerics;
using System.Runtime.InteropServices;
using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// One orientation of a sparse matrix in compressed rows (CSR): row r's nonzeros are
/// <c>Value[Start[r] .. Start[r+1])</c> at columns <c>Index[...]</c>, in increasing column order.
/// The arrays are pinned, so kernels on worker threads may read them through raw pointers; the
/// kernel reads the same nonzeros regrouped in slices of rows (<see cref="Sliced"/>).
/// </summary>
public sealed class CompressedRows
{
    public int Rows { get; }
    public int Columns { get; }
    internal readonly int[] Start;
    internal readonly int[] Index;
    internal readonly float[] Value;

    internal readonly SlicedRows Sliced;

    internal CompressedRows(int rows, int columns, int[] start, int[] index, float[] value)
    {
        (Rows, Columns, Start, Index, Value) = (rows, columns, start, index, value);
        Sliced = new SlicedRows(rows, columns, start, index, value);
    }

    public long Nonzeros => Start[Rows];
}

/// <summary>
/// The nonzeros of a weight W (out_features, in_features) in the two layouts the sparse linear
/// layer needs (docs/method.md "Sparse-aware execution"): W by rows for the forward <c>y = x Wᵀ</c>
/// and Wᵀ by rows for the input gradient <c>dx = dy W</c>. Built from the dense tensor in two
/// passes (count, fill); the support changes after every optimizer step, so training builds it
/// anew at every forward (<see cref="LinearKernelSetting"/>).
/// </summary>
public sealed class SparseWeight
{
    /// <summary>W (out, in) by rows.</summary>
    public CompressedRows Rows { get; }
    /// <summary>Wᵀ (in, out) by rows.</summary>
    public CompressedRows Transposed { get; }

    SparseWeight(CompressedRows rows, CompressedRows transposed) => (Rows, Transposed) = (rows, transposed);

    public long Nonzeros => Rows.Nonzeros;
    public double Density => Nonzeros / ((double)Rows.Rows * Rows.Columns);

    /// <summary>Nonzeros of a CPU float32 matrix, counted as the layout counts them (NaN counts as nonzero).</summary>
    public static long CountNonzeros(Tensor weight)
    {
        Check(weight);
        Tensor w = weight.is_contiguous() ? weight : weight.contiguous();
        try
        {
            var perRow = new int[weight.shape[0]];
            var perColumn = new int[weight.shape[1]];
            return Count(w, perRow, perColumn);
        }
        finally
        {
            if (!ReferenceEquals(w, weight)) w.Dispose();
        }
    }

    /// <summary>Both layouts of a CPU float32 matrix (out, in); entries that are exactly 0 are left out.</summary>
    public static unsafe SparseWeight From(Tensor weight)
    {
        Check(weight);
        Tensor w = weight.is_contiguous() ? weight : weight.contiguous();
        try
        {
            int rows = (int)weight.shape[0], columns = (int)weight.shape[1];
            var rowStart = new int[rows + 1];
            var columnStart = new int[columns + 1];
            long nonzeros = Count(w, new Span<int>(rowStart, 1, rows), new Span<int>(columnStart, 1, columns));
            if (nonzeros > int.MaxValue) throw new ArgumentException($"a sparse weight holds at most {int.MaxValue} nonzeros; got {nonzeros}", nameof(weight));
            for (int r = 0; r < rows; r++) rowStart[r + 1] += rowStart[r];
            for (int c = 0; c < columns; c++) columnStart[c + 1] += columnStart[c];

            int n = (int)nonzeros;
            int[] columnIndex = GC.AllocateUninitializedArray<int>(n, pinned: true), rowIndex = GC.AllocateUninitializedArray<int>(n, pinned: true);
            float[] rowValue = GC.AllocateUninitializedArray<float>(n, pinned: true), columnValue = GC.AllocateUninitializedArray<float>(n, pinned: true);
            int[] fill = columnStart[..columns]; // next free slot of each column of Wᵀ's rows
            float* data = (float*)TensorMemory.Address(w);
            int at = 0;
            // Row-major order visits each row's columns ascending and each column's rows ascending.
            for (int r = 0; r < rows; r++)
            {
                float* row = data + (long)r * columns;
                int c = 0;
                for (; c <= columns - 16; c += 16)
                {
                    uint mask = KernelVectors.NonzeroMask16(row + c);
                    while (mask != 0)
                    {
                        int j = c + BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        Place(r, j, row[j], ref at);
                    }
                }
                for (; c < columns; c++)
                    if (row[c] != 0f) Place(r, c, row[c], ref at);
            }

            void Place(int r, int c, float value, ref int slot)
            {
                columnIndex[slot] = c;
                rowValue[slot++] = value;
                int t = fill[c]++;
                rowIndex[t] = r;
                columnValue[t] = value;
            }

            return new SparseWeight(new CompressedRows(rows, columns, Pin(rowStart), columnIndex, rowValue),
                new CompressedRows(columns, rows, Pin(columnStart), rowIndex, columnValue));
        }
        finally
        {
            if (!ReferenceEquals(w, weight)) w.Dispose();
        }
    }

    static int[] Pin(int[] array)
    {
        int[] pinned = GC.AllocateUninitializedArray<int>(array.Length, pinned: true);
        array.CopyTo(pinned, 0);
        return pinned;
    }

    static void Check(Tensor weight)
    {
        if (weight.dim() != 2 || weight.dtype != ScalarType.Float32 || weight.device_type != DeviceType.CPU)
            throw new ArgumentException($"expected a CPU float32 matrix; got {weight.dtype} [{string.Join(", ", weight.shape)}] on {weight.device_type}", nameof(weight));
        if (weight.shape[0] >= 1 << 26 || weight.shape[1] >= 1 << 26) // the kernel's buffer offsets are 16 x the index, in an int
            throw new ArgumentException($"matrix too large for a sparse layout: [{string.Join(", ", weight.shape)}]", nameof(weight));
    }

    /// <summary>Adds each row's and each column's nonzeros to the spans; returns the total.</summary>
    static unsafe long Count(Tensor contiguous, Span<int> perRow, Span<int> perColumn)
    {
        int rows = perRow.Length, columns = perColumn.Length;
        float* data = (float*)TensorMemory.Address(contiguous);
        long total = 0;
        for (int r = 0; r < rows; r++)
        {
            float* row = data + (long)r * columns;
            int count = 0, c = 0;
            for (; c <= columns - 16; c += 16)
            {
                uint mask = KernelVectors.NonzeroMask16(row + c);
                count += BitOperations.PopCount(mask);
                while (mask != 0)
                {
                    perColumn[c + BitOperations.TrailingZeroCount(mask)]++;
                    mask &= mask - 1;
                }
            }
            for (; c < columns; c++)
                if (row[c] != 0f) { count++; perColumn[c]++; }
            perRow[r] += count;
            total += count;
        }
        return total;
    }
}

namespace SparseCircuits.Model;

/// <summary>
/// A compressed-rows matrix regrouped for the sparse kernel (a sliced ELL layout): rows in slices
/// of 16, each slice's nonzeros stored position by position (entry k of row 0, of row 1, ..., of row
/// 15, then entry k + 1), so the kernel advances 16 rows in lockstep with 16 independent
/// accumulators and no branch per row. Each slice holds as many positions as its 12th-longest row
/// (the 75th percentile): shorter rows are padded with entries pointing at an always-zero buffer
/// row, and the entries of longer rows beyond that go to a per-row overflow list. Padding to the
/// longest row instead would multiply the work by up to ~1.5 at 1/32 density; lockstep rows
/// removed the mispredicted loop exit per row that bounded the plain CSR kernel
/// (docs/benchmarks.md "Sparse-aware execution").
/// </summary>
sealed class SlicedRows
{
    public const int Height = 16;

    public readonly int Rows, Columns, Slices;
    /// <summary>Slice s's entries are <c>[Start[s], Start[s+1])</c>, 16 per position.</summary>
    public readonly int[] Start;
    /// <summary>Column × 16: the entry's offset in the kernel's (columns + 1, 16) buffer; padding points at row <see cref="Columns"/>.</summary>
    public readonly int[] Offset;
    public readonly float[] Value;
    /// <summary>Row r's entries beyond its slice's positions: <c>[OverflowStart[r], OverflowStart[r+1])</c>.</summary>
    public readonly int[] OverflowStart, OverflowOffset;
    public readonly float[] OverflowValue;
    /// <summary>Whether any row of the slice has overflow entries.</summary>
    public readonly bool[] Overflows;

    public SlicedRows(int rows, int columns, int[] start, int[] index, float[] value)
    {
        (Rows, Columns) = (rows, columns);
        Slices = (rows + Height - 1) / Height;
        Start = new int[Slices + 1];
        Overflows = new bool[Slices];
        OverflowStart = new int[rows + 1];
        var positions = new int[Slices];
        Span<int> lengths = stackalloc int[Height];
        for (int s = 0; s < Slices; s++)
        {
            for (int i = 0; i < Height; i++)
            {
                int r = s * Height + i;
                lengths[i] = r < rows ? start[r + 1] - start[r] : 0;
            }
            lengths.Sort();
            positions[s] = lengths[Height * 3 / 4 - 1];
            Start[s + 1] = checked(Start[s] + positions[s] * Height);
            for (int i = 0; i < Height; i++)
            {
                int r = s * Height + i;
                if (r >= rows) break;
                int extra = Math.Max(0, start[r + 1] - start[r] - positions[s]);
                OverflowStart[r + 1] = OverflowStart[r] + extra;
                Overflows[s] |= extra > 0;
            }
        }
        Offset = GC.AllocateUninitializedArray<int>(Start[Slices], pinned: true);
        Value = GC.AllocateUninitializedArray<float>(Start[Slices], pinned: true);
        OverflowOffset = GC.AllocateUninitializedArray<int>(OverflowStart[rows], pinned: true);
        OverflowValue = GC.AllocateUninitializedArray<float>(OverflowStart[rows], pinned: true);
        for (int s = 0; s < Slices; s++)
        {
            for (int i = 0; i < Height; i++)
            {
                int r = s * Height + i;
                int first = r < rows ? start[r] : 0, count = r < rows ? start[r + 1] - start[r] : 0;
                for (int k = 0; k < positions[s]; k++)
                {
                    int at = Start[s] + k * Height + i;
                    (Offset[at], Value[at]) = k < count ? (index[first + k] * Height, value[first + k]) : (columns * Height, 0f);
                }
                for (int k = positions[s]; k < count; k++)
                {
                    int at = OverflowStart[r] + k - positions[s];
                    (OverflowOffset[at], OverflowValue[at]) = (index[first + k] * Height, value[first + k]);
                }
            }
        }
    }

    /// <summary>Positions of slice s (entries per row in lockstep).</summary>
    public int Positions(int s) => (Start[s + 1] - Start[s]) / Height;
}

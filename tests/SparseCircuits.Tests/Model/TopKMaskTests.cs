using SparseCircuits.Core;
using SparseCircuits.Model;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Model;

/// <summary>The CPU kernel of <see cref="TopKMask"/> against its libtorch reference and a sort-based oracle.</summary>
public sealed class TopKMaskTests
{
    public TopKMaskTests() => TorchRuntime.EnsureInitialized();

    /// <summary>Widths around the vector sizes (8, 16) and the model's (128, 512), with frequent ties.</summary>
    [Theory]
    [InlineData(1), InlineData(7), InlineData(8), InlineData(15), InlineData(16), InlineData(17), InlineData(40), InlineData(128), InlineData(513)]
    public void Kernel_matches_the_libtorch_reference_for_every_k_and_both_orders(int width)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)width, CPU);
        Tensor rounded = (randn(9, width, generator: g) * 3).round() / 3; // many exact ties, zeros, both signs
        Tensor fine = randn(9, width, generator: g);
        foreach (Tensor x in new[] { rounded, fine })
        {
            foreach (int k in Enumerable.Range(0, width + 1).Where(k => width <= 40 || k % 13 == 0 || k == width))
            {
                foreach (bool byMagnitude in new[] { true, false })
                {
                    Tensor kernel = TopKMask.Drop(x, k, byMagnitude), reference = TopKMask.Reference(x, k, byMagnitude);
                    Assert.True(Identical(kernel, reference), $"width {width}, k {k}, by magnitude {byMagnitude}");
                    Assert.Equal(9L * (width - k), kernel.sum().item<long>()); // exactly width - k dropped per row
                }
            }
        }
    }

    [Fact]
    public void Kernel_matches_a_sort_based_oracle_with_ties_in_index_order()
    {
        using var scope = NewDisposeScope();
        float[] row = [0.5f, -2f, 2f, 0f, -0f, 1f, -1f, 2f, 0.5f, -0.5f];
        Tensor x = tensor(row).view(1, -1);
        for (int k = 0; k <= row.Length; k++)
        {
            var keepMagnitude = Enumerable.Range(0, row.Length).OrderByDescending(i => Math.Abs(row[i])).ThenBy(i => i).Take(k).ToHashSet();
            var keepSigned = Enumerable.Range(0, row.Length).OrderByDescending(i => row[i]).ThenBy(i => i).Take(k).ToHashSet();
            bool[] byMagnitude = TopKMask.Drop(x, k, byMagnitude: true).data<bool>().ToArray();
            bool[] bySign = TopKMask.Drop(x, k, byMagnitude: false).data<bool>().ToArray();
            for (int i = 0; i < row.Length; i++)
            {
                Assert.Equal(!keepMagnitude.Contains(i), byMagnitude[i]);
                Assert.Equal(!keepSigned.Contains(i), bySign[i]); // -0 and +0 tie, so the lower index wins
            }
        }
    }

    [Fact]
    public void One_long_row_and_many_rows_over_several_threads_match_the_reference()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11, CPU);
        Tensor flat = (randn(300_001, generator: g) * 50).round(); // one row: the projection's flat case, ties everywhere
        foreach (long k in new long[] { 1, 75_000, 150_000, 299_999 })
            Assert.True(Identical(TopKMask.Drop(flat, k, true), TopKMask.Reference(flat, k, true)), $"k {k}");
        Tensor batch = randn(4096, 128, generator: g); // a training batch's rows, split over workers
        Assert.True(Identical(TopKMask.Drop(batch, 16, true), TopKMask.Reference(batch, 16, true)));
    }

    [Fact]
    public void Non_contiguous_input_is_read_in_its_logical_order()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(64, 24, generator: new Generator(12, CPU)).t(); // (24, 64), rows strided
        Assert.False(x.is_contiguous());
        Assert.True(Identical(TopKMask.Drop(x, 5, true), TopKMask.Reference(x.contiguous(), 5, true)));
    }

    [Fact]
    public void Nan_ranks_above_every_number_and_other_dtypes_use_the_reference()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 1f, float.NaN, float.PositiveInfinity, -5f }).view(1, -1);
        Assert.Equal(new[] { true, false, true, true }, TopKMask.Drop(x, 1, true).data<bool>().ToArray());
        Assert.Equal(new[] { true, false, false, true }, TopKMask.Drop(x, 2, true).data<bool>().ToArray());
        Tensor doubles = tensor(new double[] { 3, -4, 1, 0 }).view(1, -1);
        Assert.Equal(new[] { true, false, true, true }, TopKMask.Drop(doubles, 1, true).data<bool>().ToArray());
        Assert.Equal(new[] { false, true, true, true }, TopKMask.Drop(doubles, 1, false).data<bool>().ToArray());
    }

    static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Rejects_k_outside_the_row()
    {
        using var scope = NewDisposeScope();
        Tensor x = zeros(2, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKMask.Drop(x, 5, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKMask.Drop(x, -1, true));
    }
}

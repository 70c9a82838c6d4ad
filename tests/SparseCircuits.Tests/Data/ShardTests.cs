using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Data;

public sealed class ShardTests
{
    // A stand-in tokenizer: one id per UTF-8 byte, end-of-text = 256.
    static int[] ByteEncode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    static string MakeCorpus(TempDir dir, int files = 30)
    {
        for (int i = 0; i < files; i++) dir.Write($"src/f{i:00}.py", $"x{i} = {i}\n");
        CorpusBuilder.Build(new CorpusOptions { Sources = [dir["src"]], TrainFraction = 0.6, ValFraction = 0.2 }, dir["corpus"], NullProgress.Instance);
        return dir["corpus"];
    }

    static ShardManifest WriteShards(TempDir dir, string outName = "shards") =>
        ShardWriter.Write(dir["corpus"], ByteEncode, 257, 256, "test-tokenizer", dir[outName], NullProgress.Instance);

    [Fact]
    public void Shard_holds_each_document_followed_by_end_of_text()
    {
        using var dir = new TempDir();
        MakeCorpus(dir);
        var manifest = WriteShards(dir);
        foreach (var split in Enum.GetValues<CorpusSplit>())
        {
            var expected = CorpusFormat.ReadDocuments(dir["corpus"], split)
                .SelectMany(d => ByteEncode(d.Text).Append(256)).Select(i => (ushort)i).ToArray();
            using var shard = manifest.Open(dir["shards"], split);
            Assert.Equal(expected.Length, shard.Length);
            Assert.Equal(expected, shard.Slice(0, (int)shard.Length).ToArray());
            Assert.Equal(expected.Length, manifest.Splits[split.ToString().ToLowerInvariant()].Tokens);
        }
        Assert.Equal(30, manifest.Splits.Values.Sum(s => s.Documents));
    }

    [Fact]
    public void Same_input_gives_identical_shards()
    {
        using var dir = new TempDir();
        MakeCorpus(dir);
        WriteShards(dir, "a");
        WriteShards(dir, "b");
        foreach (string file in new[] { "train.bin", "val.bin", "test.bin", ShardManifest.FileName })
            Assert.Equal(File.ReadAllBytes(dir[$"a/{file}"]), File.ReadAllBytes(dir[$"b/{file}"]));
    }

    [Fact]
    public void Truncated_shard_is_detected_on_load()
    {
        using var dir = new TempDir();
        MakeCorpus(dir);
        WriteShards(dir);
        using (var f = new FileStream(dir["shards/train.bin"], FileMode.Open)) f.SetLength(f.Length - 2);
        var error = Assert.Throws<SparseCircuitsException>(() => ShardManifest.Load(dir["shards"]));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Odd_sized_shard_file_is_rejected()
    {
        using var dir = new TempDir();
        string path = dir.WriteBytes("odd.bin", [1, 2, 3]);
        Assert.Throws<SparseCircuitsException>(() => new TokenShard(path));
    }

    static TokenShard Counting(TempDir dir, int n)
    {
        var bytes = new byte[n * 2];
        for (int i = 0; i < n; i++) { bytes[2 * i] = (byte)i; bytes[2 * i + 1] = (byte)(i >> 8); }
        return new TokenShard(dir.WriteBytes("count.bin", bytes));
    }

    [Fact]
    public void Random_windows_are_contiguous_slices_and_reproducible_from_state()
    {
        using var dir = new TempDir();
        using var shard = Counting(dir, 1000); // token i has id i, so a window is a run of consecutive ids
        var sampler = new RandomWindowSampler(shard, batchSize: 4, contextLength: 16, seed: 7);
        var starts = new HashSet<long>();
        for (int step = 0; step < 50; step++)
        {
            long[] batch = sampler.Next();
            for (int b = 0; b < 4; b++)
            {
                var row = batch.AsSpan(b * 17, 17);
                for (int t = 1; t < 17; t++) Assert.Equal(row[0] + t, row[t]);
                Assert.InRange(row[0], 0, 1000 - 17);
                starts.Add(row[0]);
            }
        }
        Assert.True(starts.Count > 150, "starts should be spread over the shard");

        ulong saved = sampler.State;
        long[] next1 = sampler.Next(), next2 = sampler.Next();
        var resumed = new RandomWindowSampler(shard, 4, 16, seed: 0) { State = saved };
        Assert.Equal(next1, resumed.Next());
        Assert.Equal(next2, resumed.Next());
    }

    [Fact]
    public void Repeat_fraction_makes_that_share_of_windows_a_span_and_its_copy()
    {
        using var dir = new TempDir();
        using var shard = Counting(dir, 5000);
        const int width = 65;
        var sampler = new RandomWindowSampler(shard, batchSize: 8, contextLength: 64, seed: 3, repeatFraction: 0.25);
        int repeated = 0, rows = 0;
        var periods = new HashSet<int>();
        for (int step = 0; step < 100; step++)
        {
            long[] batch = sampler.Next();
            for (int b = 0; b < 8; b++, rows++)
            {
                var row = batch.AsSpan(b * width, width);
                // Counting ids: the first drop in the row is where the copy starts; a plain window has none.
                int period = width;
                for (int t = 1; t < width; t++) if (row[t] != row[t - 1] + 1) { period = t; break; }
                for (int t = 0; t < width; t++) Assert.Equal(row[0] + t % period, row[t]);
                if (period == width) continue;
                repeated++;
                periods.Add(period);
                Assert.InRange(period, width / 8, width / 2);
            }
        }
        Assert.InRange(repeated / (double)rows, 0.19, 0.31);
        Assert.True(periods.Count > 10, "copy periods should vary");

        ulong saved = sampler.State;
        long[] next = sampler.Next();
        Assert.Equal(next, new RandomWindowSampler(shard, 8, 64, seed: 0, repeatFraction: 0.25) { State = saved }.Next());
    }

    [Fact]
    public void Repeat_fraction_zero_draws_the_plain_batches_and_bad_fractions_are_refused()
    {
        using var dir = new TempDir();
        using var shard = Counting(dir, 1000);
        Assert.Equal(new RandomWindowSampler(shard, 4, 16, seed: 5).Next(), new RandomWindowSampler(shard, 4, 16, seed: 5, repeatFraction: 0).Next());
        foreach (double bad in new[] { -0.1, 1.5, double.NaN })
            Assert.Contains("repeat fraction", Assert.Throws<SparseCircuitsException>(() => new RandomWindowSampler(shard, 4, 16, 0, bad)).Message);
    }

    [Fact]
    public void Sequential_windows_are_disjoint_in_targets_and_cover_the_shard()
    {
        using var dir = new TempDir();
        using var shard = Counting(dir, 101);
        var batches = SequentialWindows.Batches(shard, batchSize: 3, contextLength: 10).ToList();
        var firsts = batches.SelectMany(b => Enumerable.Range(0, b.Length / 11).Select(i => b[i * 11])).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i * 10), firsts); // (101-1)/10 = 10 windows
        Assert.Equal([3, 3, 3, 1], batches.Select(b => b.Length / 11));
        Assert.Equal(3, SequentialWindows.Batches(shard, 3, 10, maxTokens: 30).Sum(b => b.Length / 11));
    }

    [Fact]
    public void Sampler_rejects_a_shard_shorter_than_one_window()
    {
        using var dir = new TempDir();
        using var shard = Counting(dir, 10);
        var error = Assert.Throws<SparseCircuitsException>(() => new RandomWindowSampler(shard, 1, 16, 0));
        Assert.Contains("fewer than one window", error.Message);
    }
}

using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Training;
using Xunit;

namespace SparseCircuits.Tests.Training;

public sealed class CheckpointChoiceTests
{
    [Theory]
    [InlineData("best", "best")]
    [InlineData("Best", "best")]
    [InlineData("LATEST", "latest")]
    [InlineData("1750", "step_001750")]
    [InlineData("step_001750", "step_001750")]
    [InlineData("0", "step_000000")]
    public void Reads_best_latest_and_steps(string text, string expected)
    {
        Assert.Equal(expected, CheckpointChoice.Parse(text).ToString());
        // The command line converts through the type's converter.
        Assert.Equal(CheckpointChoice.Parse(text), TypeDescriptor.GetConverter(typeof(CheckpointChoice)).ConvertFrom(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("newest")]
    [InlineData("-5")]
    [InlineData("step_")]
    [InlineData("1.5")]
    public void Anything_else_is_refused(string text) =>
        Assert.Contains("best, latest or a step", Assert.Throws<SparseCircuitsException>(() => CheckpointChoice.Parse(text)).Message);

    [Fact]
    public void Best_is_the_default_and_steps_compare_by_value()
    {
        Assert.Equal(CheckpointChoice.Best, default);
        Assert.NotEqual(CheckpointChoice.Best, CheckpointChoice.Latest);
        Assert.Equal(CheckpointChoice.AtStep(20), CheckpointChoice.Parse("step_000020"));
        Assert.Null(CheckpointChoice.Latest.Step);
    }

    [Fact]
    public void Finds_the_best_the_latest_or_a_kept_step_and_names_the_kept_ones_otherwise()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path, keepLast: 3);
        Assert.Null(CheckpointChoice.Best.Find(store));
        Assert.Null(CheckpointChoice.Latest.Find(store));
        foreach (var (step, loss) in new (long, double?)[] { (100, 3.0), (200, 2.0), (300, 2.5), (400, null) })
            CheckpointStoreTests.Save(store, step, loss);

        Assert.Equal(200, CheckpointChoice.Best.Find(store)!.Step);
        Assert.Equal(400, CheckpointChoice.Latest.Find(store)!.Step);
        Assert.Equal(300, CheckpointChoice.AtStep(300).Find(store)!.Step);
        // Step 100 was rotated out: the error lists what the run still has.
        var error = Assert.Throws<SparseCircuitsException>(() => CheckpointChoice.AtStep(100).Find(store));
        Assert.Contains("no complete checkpoint at step 100", error.Message);
        Assert.Contains("200, 300, 400", error.Message);
    }

    [Fact]
    public void Best_falls_back_to_the_latest_when_no_checkpoint_has_a_val_loss()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        CheckpointStoreTests.Save(store, 10, null);
        CheckpointStoreTests.Save(store, 20, null);
        Assert.Equal(20, CheckpointChoice.Best.Find(store)!.Step);
    }
}

using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Platform;

/// <summary>The build's libLibTorchSharp patch (docs/torchsharp-on-debian12.md) and that TorchSharp really runs.</summary>
public sealed class TorchLoadingTests
{
    static readonly string OutputCopy = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void Output_copy_is_patched_exactly_when_the_system_libstdcxx_lacks_the_version()
    {
        Assert.True(File.Exists(OutputCopy), $"missing {OutputCopy}");
        byte[] image = File.ReadAllBytes(OutputCopy);
        bool systemHasIt = ElfVersionNeeds.SystemLibstdcxxHas("GLIBCXX_3.4.32");
        Assert.Single(ElfVersionNeeds.FindAuxFlags(image, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        Assert.Equal(!systemHasIt, ElfVersionNeeds.IsWeak(image, "libstdc++.so.6", "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void Patching_changes_one_flag_bit_and_is_idempotent()
    {
        byte[] image = File.ReadAllBytes(OutputCopy);
        int offset = ElfVersionNeeds.FindAuxFlags(image, "libstdc++.so.6", "GLIBCXX_3.4.32").Single();
        image[offset] &= unchecked((byte)~0x2); // back to the library as shipped
        byte[] original = (byte[])image.Clone();

        Assert.Equal(1, ElfVersionNeeds.MakeWeak(image, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        Assert.Equal(0, ElfVersionNeeds.MakeWeak(image, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        var differing = Enumerable.Range(0, image.Length).Where(i => image[i] != original[i]).ToList();
        Assert.Equal([offset], differing);
        Assert.Equal(0x2, image[offset] ^ original[offset]);
        // Other requirements stay strong.
        Assert.False(ElfVersionNeeds.IsWeak(image, "libstdc++.so.6", "GLIBCXX_3.4.9"));
    }

    [Fact]
    public void Rejects_files_that_are_not_elf64()
    {
        Assert.Throws<FormatException>(() => ElfVersionNeeds.MakeWeak(new byte[100], "libstdc++.so.6", "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void TorchSharp_loads_and_runs_an_autograd_step()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        var x = tensor(new float[] { 4, 5, 6 });
        var loss = (w * x).sum() + (w * w).sum(); // d/dw = x + 2w
        loss.backward();
        Assert.Equal(new float[] { 6, 9, 12 }, w.grad!.data<float>().ToArray());
        Assert.True(TorchRuntime.Threads >= 1);
    }
}

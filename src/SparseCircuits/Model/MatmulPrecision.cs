using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// The number format the model's matmuls run in. <see cref="MatmulPrecision.Bf16"/> casts each matmul's
/// inputs to bfloat16 and its result back to float32, as mixed-precision autocast does: master
/// weights, optimizer state, norms, AbsTopK, attention, softmax and the loss stay float32, and libtorch
/// accumulates bf16 products in float32. On CPUs with AVX512_BF16 (or AMX) libtorch's bf16 GEMM
/// is several times faster than fp32 (docs/benchmarks.md); elsewhere it may be slower.
/// </summary>
public enum MatmulPrecision { Fp32, Bf16 }

public static class MatmulPrecisions
{
    /// <summary>
    /// Bf16 where the CPU multiplies bfloat16 natively (AVX512_BF16 or AMX-BF16, read from
    /// /proc/cpuinfo), else Fp32: without those instructions libtorch's bf16 GEMM is slower than fp32.
    /// </summary>
    public static MatmulPrecision Fastest() => HasNativeBf16.Value ? MatmulPrecision.Bf16 : MatmulPrecision.Fp32;

    static readonly Lazy<bool> HasNativeBf16 = new(() =>
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !File.Exists("/proc/cpuinfo")) return false;
            string flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
            return flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(f => f is "avx512_bf16" or "amx_bf16");
        }
        catch (IOException) { return false; }
    });
}

/// <summary>
/// One model's matmul switches, shared by all of its modules so a single assignment changes every
/// matmul: the number format (<see cref="Precision"/>) and the linear layers' kernels
/// (<see cref="Kernels"/>: dense libtorch or <see cref="SparseLinear"/>).
/// </summary>
sealed class MatmulSettings
{
    public MatmulPrecision Precision { get; set; }
    public LinearKernelSetting Kernels { get; } = new();

    /// <summary><paramref name="layer"/> applied to <paramref name="x"/> in this precision with the chosen kernels; the result is float32.</summary>
    public Tensor Linear(Linear layer, Tensor x)
    {
        if (Kernels.LayoutFor(layer.weight!, x, Precision) is SparseWeight layout)
            return SparseLinear.Apply(x, layer.weight!, layer.bias, layout, Precision);
        if (Precision == MatmulPrecision.Fp32) return layer.forward(x);
        return nn.functional.linear(x.to(ScalarType.BFloat16), layer.weight!.to(ScalarType.BFloat16), layer.bias?.to(ScalarType.BFloat16))
            .to(x.dtype);
    }
}

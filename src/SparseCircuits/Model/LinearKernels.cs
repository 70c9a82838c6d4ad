using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Model;

/// <summary>
/// Kernels of the model's linear layers: libtorch's dense matmul, <see cref="SparseLinear"/> over the
/// weight's nonzeros, or per layer and call whichever measured faster at that shape and density
/// (docs/benchmarks.md "Sparse-aware execution"). All three compute the same function up to float
/// summation order.
/// </summary>
public enum LinearKernels { Auto, Dense, Sparse }

public static class LinearKernelChoice
{
    /// <summary>
    /// Whether <see cref="LinearKernels.Auto"/> runs a weight of <paramref name="inFeatures"/> x
    /// <paramref name="outFeatures"/> at <paramref name="density"/> sparse: when its density is at
    /// or below the crossover measured for the dense path's precision and the kernels' vector form
    /// (<see cref="KernelVectors.Current"/>), with enough tokens to fill a block.
    /// </summary>
    public static bool PrefersSparse(int inFeatures, int outFeatures, double density, long tokens, MatmulPrecision precision) =>
        tokens >= 16 && density <= CrossoverDensity(Math.Min(inFeatures, outFeatures), precision, KernelVectors.Current);

    /// <summary>
    /// The densest weight at which the sparse path measured at least as fast as the dense one in
    /// both a training step and a pruning step, on whole 4-layer models with AbsTopK 1/4 (bench
    /// <c>sparse-kernels</c>, densities measured 1/8 to 1/64; docs/benchmarks.md "Sparse-aware
    /// execution"); 0 means never.
    /// <para>AVX-512 (2-core Zen 5, one thread, machine loaded). Against fp32 matmuls: at every
    /// density from width 256 (training 1.5-3.1x), from 1/16 at width 128 (1/8 trained at 0.95x).
    /// Against bf16 matmuls (about four times fp32's speed there): from 1/16 at widths 512 and 1024
    /// (training 1.07-1.24x; 0.91-0.92x at 1/8), from 1/32 at 256 (1.03-1.05x; 0.85-0.92x denser),
    /// never at 128 (training 0.86-0.91x at every density).</para>
    /// <para>AVX2 (2-core Zen 3 EPYC, two threads, idle): at every density from width 256 (training
    /// 1.23-1.31x at 256, 1.7x at 512 and 1/32), from 1/32 at width 128 (training 1.10-1.17x;
    /// 0.83-0.85x denser). Such CPUs have no bf16 matmul instructions, so libtorch's bf16 runs
    /// slower than fp32 there and fp32's crossover applies to both.</para>
    /// <para>Portable (vectors emulated): never.</para>
    /// </summary>
    public static double CrossoverDensity(int width, MatmulPrecision precision, VectorIsa isa) => isa switch
    {
        VectorIsa.Avx512 => precision switch
        {
            MatmulPrecision.Fp32 => width >= 256 ? 1.0 / 8 : 1.0 / 16,
            _ => width >= 512 ? 1.0 / 16 : width >= 256 ? 1.0 / 32 : 0,
        },
        VectorIsa.Avx2 => width >= 256 ? 1.0 / 8 : 1.0 / 32,
        _ => 0,
    };
}

/// <summary>
/// One model's kernel switch and its sparse layouts. A layout describes the weight's current
/// nonzeros, so it is built at every call unless a <see cref="Cache"/> scope promises the weights
/// stay fixed (pruning).
/// </summary>
sealed class LinearKernelSetting
{
    readonly object gate = new();
    readonly Dictionary<Tensor, SparseWeight?> cache = new(ReferenceEqualityComparer.Instance);
    int cacheScopes;

    public LinearKernels Value { get; set; }

    /// <summary>The layout to run <paramref name="weight"/> sparse with, or null to run it dense.</summary>
    public SparseWeight? LayoutFor(Tensor weight, Tensor x, MatmulPrecision precision)
    {
        if (Value == LinearKernels.Dense || !Eligible(weight, x)) return null;
        lock (gate)
        {
            if (cacheScopes > 0 && cache.TryGetValue(weight, out SparseWeight? cached)) return cached;
        }
        SparseWeight? layout = Choose(weight, x, precision);
        lock (gate)
        {
            if (cacheScopes > 0) cache[weight] = layout;
        }
        return layout;
    }

    SparseWeight? Choose(Tensor weight, Tensor x, MatmulPrecision precision)
    {
        using var _ = no_grad();
        if (Value == LinearKernels.Sparse) return SparseWeight.From(weight);
        int outFeatures = (int)weight.shape[0], inFeatures = (int)weight.shape[1];
        long tokens = x.numel() / Math.Max(1, inFeatures);
        // Counting nonzeros costs a pass over the weight: skip it where no density would run sparse.
        if (tokens < 16 || LinearKernelChoice.CrossoverDensity(Math.Min(inFeatures, outFeatures), precision, KernelVectors.Current) == 0) return null;
        double density = SparseWeight.CountNonzeros(weight) / ((double)outFeatures * inFeatures);
        return LinearKernelChoice.PrefersSparse(inFeatures, outFeatures, density, tokens, precision) ? SparseWeight.From(weight) : null;
    }

    static bool Eligible(Tensor weight, Tensor x) =>
        weight.dim() == 2 && weight.dtype == ScalarType.Float32 && weight.device_type == DeviceType.CPU
        && x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU && x.dim() >= 1
        && weight.shape[0] < 1 << 26 && weight.shape[1] < 1 << 26;

    /// <summary>Builds each layout (and auto choice) once until the returned scope is disposed.</summary>
    public IDisposable Cache()
    {
        lock (gate) cacheScopes++;
        return new Scope(this);
    }

    sealed class Scope(LinearKernelSetting owner) : IDisposable
    {
        bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            lock (owner.gate)
            {
                if (--owner.cacheScopes == 0) owner.cache.Clear();
            }
        }
    }
}

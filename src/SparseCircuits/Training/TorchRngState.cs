using SparseCircuits.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// Saves and restores a TorchSharp generator as a base64 string (for trainer_state.json). The
/// model has no dropout, so this matters for initialisation and anything else drawing from torch.
/// </summary>
public static class TorchRngState
{
    /// <param name="generator">the generator to read; the global default one when null</param>
    public static string Capture(Generator? generator = null)
    {
        TorchRuntime.EnsureInitialized();
        using Tensor state = generator is null ? torch.random.get_rng_state() : generator.get_state();
        return Convert.ToBase64String(state.bytes);
    }

    public static void Restore(string captured, Generator? generator = null)
    {
        TorchRuntime.EnsureInitialized();
        byte[] bytes;
        try { bytes = Convert.FromBase64String(captured); }
        catch (FormatException) { throw new SparseCircuitsException("torch generator state is not valid base64"); }
        // libtorch aborts the process (not a catchable error) on a state of the wrong size, so check first.
        using (Tensor current = generator is null ? torch.random.get_rng_state() : generator.get_state())
        {
            if (bytes.Length != current.numel())
                throw new SparseCircuitsException($"torch generator state has {bytes.Length} bytes but this libtorch expects {current.numel()}");
        }
        using Tensor state = torch.tensor(bytes, dtype: ScalarType.Byte);
        if (generator is null) torch.random.set_rng_state(state);
        else generator.set_state(state);
    }
}

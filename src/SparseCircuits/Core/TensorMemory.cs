using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SparseCircuits.Core;

/// <summary>
/// Where a contiguous CPU tensor's elements start, for the C# kernels. Native memory does not
/// move, so the address may be passed to worker threads (as an <c>nint</c>: pointers cannot be
/// captured by lambdas).
/// </summary>
public static class TensorMemory
{
    public static unsafe nint Address(Tensor contiguous) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(contiguous.bytes));
}

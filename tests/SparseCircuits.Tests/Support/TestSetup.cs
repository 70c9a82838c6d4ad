using System.Runtime.CompilerServices;
using SparseCircuits.Core;

namespace SparseCircuits.Tests.Support;

static class TestSetup
{
    /// <summary>Runs before any test touches libtorch (see <see cref="TorchRuntime.PrepareNativeEnvironment"/>).</summary>
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.PrepareNativeEnvironment();
}

using System.Reflection;
using System.Runtime.InteropServices;

namespace SparseCircuits.Core;

/// <summary>Versions of everything that can change a result; stored in every manifest.</summary>
public sealed record ToolVersions(string SparseCircuits, string Dotnet, string Os, string TorchSharp, string Tokenizers)
{
    public static ToolVersions Current() => new(
        SparseCircuits: InformationalVersion(typeof(ToolVersions).Assembly),
        Dotnet: RuntimeInformation.FrameworkDescription,
        Os: RuntimeInformation.OSDescription,
        TorchSharp: InformationalVersion(typeof(TorchSharp.torch).Assembly),
        Tokenizers: InformationalVersion(typeof(Microsoft.ML.Tokenizers.Tokenizer).Assembly));

    static string InformationalVersion(Assembly a) =>
        (a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "unknown")
        .Split('+')[0];
}

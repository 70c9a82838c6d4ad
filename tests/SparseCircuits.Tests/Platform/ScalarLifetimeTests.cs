using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Platform;

/// <summary>
/// TorchSharp's <c>Scalar</c> frees its native value in a finalizer, and a call such as
/// <c>t.mul_(0.5)</c> passes only the handle of an implicit, unreferenced temporary: a garbage
/// collection on another thread (batch streams, the sparse kernels' workers) can finalise it while
/// libtorch still reads it ("INTERNAL ASSERT FAILED at c10/core/Scalar.h"). So the library converts
/// numbers to <c>Scalar</c> only into <c>using</c> locals, which stay alive until their scope ends.
/// </summary>
public sealed class ScalarLifetimeTests
{
    [Fact]
    public void The_library_converts_numbers_to_torch_scalars_only_into_using_locals()
    {
        var offenders = ImplicitScalarConversions(RepoPaths.Source("SparseCircuits"))
            .Where(c => !c.IntoUsingLocal).Select(c => c.Location).ToList();
        Assert.True(offenders.Count == 0,
            $"{offenders.Count} implicit Scalar temporaries (declare `using Scalar s = value;` and pass s):\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_check_finds_temporaries_and_accepts_using_locals()
    {
        using var dir = new TempDir();
        dir.Write("Sample.cs", """
            using TorchSharp;
            using static TorchSharp.torch;
            static class Sample
            {
                static void Scale(Tensor t, double factor)
                {
                    t.mul_(factor);                  // a temporary: flagged
                    using Scalar kept = factor;      // a using local: accepted
                    t.mul_(kept);
                    Scalar loose = 2.0;              // a plain local: flagged (nothing keeps it alive)
                    t.add_(loose);
                    t.div_(factor.ToScalar());       // an explicit call is just as unreferenced: flagged
                }
            }
            """);
        var found = ImplicitScalarConversions(dir.Path);
        Assert.Equal([false, true, false, false], found.Select(c => c.IntoUsingLocal));
        Assert.Equal([7, 8, 10, 12], found.Select(c => c.Line));
    }

    /// <summary>
    /// TorchSharp's <c>a + b</c> and <c>a - b</c> on two tensors pass a hidden alpha = 1 as such a
    /// temporary too (session 19: "Expected false to be true ... toFloat at Scalar.h" in the residual
    /// add after 70-190 steps in two streams). The model's forward pass runs on the batch streams'
    /// threads, so it adds through <c>KeptScalars.Add</c>, whose alpha is a static.
    /// </summary>
    [Fact]
    public void The_model_adds_tensors_only_through_kept_scalars()
    {
        var offenders = TensorAdditions(Path.Combine(RepoPaths.Source("SparseCircuits"), "Model"));
        Assert.True(offenders.Count == 0, $"{offenders.Count} tensor +/- operators (use KeptScalars.Add):\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_addition_check_finds_tensor_operators_and_nothing_else()
    {
        using var dir = new TempDir();
        dir.Write("Sample.cs", """
            using static TorchSharp.torch;
            static class Sample
            {
                static Tensor Sum(Tensor a, Tensor b, int n)
                {
                    Tensor c = a + b;                // flagged
                    Tensor d = a - b * b;            // flagged (the product is not)
                    int m = n + 1;                   // numbers: not flagged
                    return a.add(b);                 // a method call: the conversion scan's business, not this one's
                }
            }
            """);
        Assert.Equal(["Sample.cs:6: a + b", "Sample.cs:7: a - b * b"], TensorAdditions(dir.Path));
    }

    /// <summary>Every <c>+</c> or <c>-</c> between two tensors in the C# files under <paramref name="dir"/>.</summary>
    static List<string> TensorAdditions(string dir)
    {
        var (compilation, trees) = Compile(dir);
        INamedTypeSymbol tensor = compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor")!;
        return Nodes<BinaryExpressionSyntax>(compilation, trees)
            .Where(n => n.Node.IsKind(SyntaxKind.AddExpression) || n.Node.IsKind(SyntaxKind.SubtractExpression))
            .Where(n => n.Model.GetSymbolInfo(n.Node).Symbol is IMethodSymbol { Parameters.Length: 2 } op
                && op.Parameters.All(p => SymbolEqualityComparer.Default.Equals(p.Type, tensor)))
            .Select(n => Where(n.Node).Location).ToList();
    }

    /// <summary>Every node of type <typeparamref name="T"/> in the scanned files, in file and source order, with its file's semantic model.</summary>
    static IEnumerable<(SemanticModel Model, T Node)> Nodes<T>(CSharpCompilation compilation, List<SyntaxTree> trees) where T : SyntaxNode =>
        trees.SelectMany(tree =>
        {
            SemanticModel model = compilation.GetSemanticModel(tree);
            return tree.GetRoot().DescendantNodes().OfType<T>().Select(node => (model, node));
        });

    /// <summary>"File.cs:LINE: code" and the line, for messages.</summary>
    static (string Location, int Line) Where(SyntaxNode node)
    {
        var span = node.GetLocation().GetLineSpan();
        int line = span.StartLinePosition.Line + 1;
        return ($"{Path.GetFileName(span.Path)}:{line}: {node}", line);
    }

    sealed record Conversion(string Location, int Line, bool IntoUsingLocal);

    /// <summary>The C# files under <paramref name="dir"/> compiled against TorchSharp, for the semantic scans below.</summary>
    static (CSharpCompilation Compilation, List<SyntaxTree> Trees) Compile(string dir)
    {
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Preview);
        var trees = Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Order(StringComparer.Ordinal)
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f))
            .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, options))
            .ToList();
        var compilation = CSharpCompilation.Create("scan", trees, References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        // Regex source generators do not run here; their partial methods lack a body (CS8795), nothing else may fail.
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS8795").Take(5).ToList();
        Assert.True(errors.Count == 0, "the scan could not compile the sources: " + string.Join("\n", errors));
        return (compilation, trees);
    }

    /// <summary>Every number turned into a TorchSharp Scalar in the C# files under <paramref name="dir"/>, in file and line order.</summary>
    static List<Conversion> ImplicitScalarConversions(string dir)
    {
        var (compilation, trees) = Compile(dir);
        INamedTypeSymbol scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar")!;
        var found = new List<Conversion>();
        foreach (var (model, node) in Nodes<ExpressionSyntax>(compilation, trees))
        {
            if (node.Parent is MemberAccessExpressionSyntax access && access.Name == node) continue; // the whole access is checked

            var info = model.GetTypeInfo(node);
            bool converted = SymbolEqualityComparer.Default.Equals(info.ConvertedType, scalar)
                && !SymbolEqualityComparer.Default.Equals(info.Type, scalar) && info.Type is not null;
            bool explicitCall = node is InvocationExpressionSyntax && SymbolEqualityComparer.Default.Equals(info.Type, scalar);
            if (!converted && !explicitCall) continue;
            var (location, line) = Where(node);
            found.Add(new(location, line, IsUsingLocalInitializer(node)));
        }
        return found;
    }

    /// <summary>
    /// True when <paramref name="node"/> is the whole initializer of a variable in a <c>using</c>
    /// declaration or statement, or of a <c>static readonly</c> field (rooted for the life of the process).
    /// </summary>
    static bool IsUsingLocalInitializer(ExpressionSyntax node) =>
        node.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax declaration } }
        && (declaration.Parent is LocalDeclarationStatementSyntax { UsingKeyword.RawKind: not 0 } || declaration.Parent is UsingStatementSyntax
            || declaration.Parent is FieldDeclarationSyntax field && field.Modifiers.Any(SyntaxKind.StaticKeyword) && field.Modifiers.Any(SyntaxKind.ReadOnlyKeyword));

    // The SDK's implicit global usings for a class library (ImplicitUsings=enable).
    const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>The runtime's assemblies and every assembly next to the tests (TorchSharp and the other packages).</summary>
    static IEnumerable<MetadataReference> References()
    {
        _ = typeof(TorchSharp.Scalar); // loaded, so its file is next to the tests
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var local = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll");
        return platform.Concat(local)
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.First())
            .Where(IsManagedAssembly)
            .Select(f => MetadataReference.CreateFromFile(f));
    }

    static bool IsManagedAssembly(string path)
    {
        try { System.Reflection.AssemblyName.GetAssemblyName(path); return true; }
        catch (BadImageFormatException) { return false; }
    }
}

using System.Reflection;

namespace SparseCircuits.Tests;

/// <summary>Test names read as sentences about the behaviour, in one style: Capitalised_snake_case.</summary>
public sealed class TestNamingTests
{
    [Fact]
    public void Every_test_is_named_as_a_snake_case_sentence()
    {
        var tests = typeof(TestNamingTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()) // Theory and our PythonFact derive from Fact
            .ToList();
        Assert.True(tests.Count > 300, $"found only {tests.Count} tests");
        var offenders = tests.Where(m => !m.Name.Contains('_') || !char.IsUpper(m.Name[0])).Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToList();
        Assert.True(offenders.Count == 0, "not Capitalised_snake_case: " + string.Join(", ", offenders));
    }
}

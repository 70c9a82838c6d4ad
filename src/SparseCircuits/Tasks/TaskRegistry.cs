using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>The 20 built-in tasks of PAPER.md, in the paper's order, found by name.</summary>
public static class TaskRegistry
{
    public static IReadOnlyList<ContrastTask> All { get; } =
    [
        new SingleDoubleQuote(),
        new FinalKwarg(),
        new SetOrString(),
        new SetOrStringFixedVarName(),
        new ClassInit(),
        new WithAs(),
        new BracketBrace(),
        new WithOpen(),
        new BracketCounting(),
        new ForWhile(),
        new ElseElif(),
        new FStringBrace(),
        new IfTernary(),
        new VarSwap(),
        new IndentFor(),
        new LambdaFunc(),
        new IfEquals(),
        new EnumerateRange(),
        new VarIf(),
        new WhileReturnTrue(),
    ];

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    public static ContrastTask? Find(string name) => All.FirstOrDefault(t => t.Name == name.Trim());

    /// <summary>The task named <paramref name="name"/>; an unknown name is a user error listing the valid ones.</summary>
    public static ContrastTask Get(string name) => Find(name)
        ?? throw new SparseCircuitsException($"unknown task '{name}'; valid tasks: {string.Join(", ", Names)}");
}

using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>
/// The built-in tasks, found by name: the 20 of docs/method.md in the paper's order (<see cref="Paper"/>,
/// the default suite of pruning), then the short-context tasks for small models (<see cref="ShortContext"/>).
/// </summary>
public static class TaskRegistry
{
    public static IReadOnlyList<ContrastTask> Paper { get; } =
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

    /// <summary>One-line tasks that models trained for minutes already solve (ShortContext.cs says why).</summary>
    public static IReadOnlyList<ContrastTask> ShortContext { get; } = [new QuoteAssign(), new QuoteCall(), new BracketParen()];

    public static IReadOnlyList<ContrastTask> All { get; } = [.. Paper, .. ShortContext];

    public static IEnumerable<string> PaperNames => Paper.Select(t => t.Name);

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    public static ContrastTask? Find(string name) => All.FirstOrDefault(t => t.Name == name.Trim());

    /// <summary>The task named <paramref name="name"/>; an unknown name is a user error listing the valid ones.</summary>
    public static ContrastTask Get(string name) => Find(name)
        ?? throw new SparseCircuitsException($"unknown task '{name}'; valid tasks: {string.Join(", ", Names)}");
}

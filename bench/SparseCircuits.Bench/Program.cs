using SparseCircuits.Bench;

// Benchmarks print numbers; pick one by name: `dotnet run -c Release --project bench/SparseCircuits.Bench -- tokenizer`.
var benchmarks = new Dictionary<string, (Func<string[], int> Run, string[] Options)>(StringComparer.Ordinal)
{
    ["training"] = (TrainingBench.Run, TrainingBench.Options),
    ["tokenizer"] = (TokenizerBench.Run, TokenizerBench.Options),
    ["profile"] = (StepProfile.Run, StepProfile.Options),
    ["streams"] = (StreamsBench.Run, StreamsBench.Options),
    ["forward"] = (ForwardBench.Run, ForwardBench.Options),
    ["sparse-kernels"] = (SparseKernelsBench.Run, SparseKernelsBench.Options),
    ["layer-kernels"] = (LayerKernelsBench.Run, LayerKernelsBench.Options),
    ["attention"] = (AttentionBench.Run, AttentionBench.Options),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine($"usage: SparseCircuits.Bench <{string.Join("|", benchmarks.Keys)}> [options]; SparseCircuits.Bench NAME --help lists a benchmark's options");
    return 2;
}
// A benchmark can run for an hour: an option it does not read (a typo, --help) must not start it with its defaults.
string[] rest = args[1..];
if (rest.Any(a => a is "--help" or "-h"))
{
    Console.WriteLine($"{args[0]} options: {string.Join(" ", bench.Options)} (docs/benchmarks.md has the commands that made each table)");
    return 0;
}
if (rest.FirstOrDefault(a => a.StartsWith("--") && !bench.Options.Contains(a)) is string unknown)
{
    Console.Error.WriteLine($"error: {args[0]} has no option {unknown}; it reads {string.Join(" ", bench.Options)}");
    return 2;
}
return bench.Run(rest);

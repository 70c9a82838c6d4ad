using SparseCircuits.Bench;

// Benchmarks print numbers; pick one by name: `dotnet run -c Release --project bench/SparseCircuits.Bench -- tokenizer`.
var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.Ordinal)
{
    ["training"] = TrainingBench.Run,
    ["tokenizer"] = TokenizerBench.Run,
    ["profile"] = StepProfile.Run,
    ["streams"] = StreamsBench.Run,
    ["forward"] = ForwardBench.Run,
    ["sparse-kernels"] = SparseKernelsBench.Run,
    ["layer-kernels"] = LayerKernelsBench.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: SparseCircuits.Bench <{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);

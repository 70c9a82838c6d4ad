namespace SparseCircuits.Bench;

static class BenchArgs
{
    /// <summary>The value after <paramref name="name"/>, or null.</summary>
    public static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>A comma-separated list of integers after <paramref name="name"/>, or <paramref name="fallback"/>'s.</summary>
    public static int[] Ints(string[] args, string name, string fallback) =>
        (Option(args, name) ?? fallback).Split(',').Select(int.Parse).ToArray();

    /// <summary>The sparse kernels' vector form after --isa (avx512, avx2, portable), or the widest this CPU runs.</summary>
    public static SparseCircuits.Model.VectorIsa Isa(string[] args) =>
        Option(args, "--isa") is string isa ? Enum.Parse<SparseCircuits.Model.VectorIsa>(isa, ignoreCase: true) : SparseCircuits.Model.KernelVectors.Best;

    /// <summary>The 1, 5 and 15 minute load averages, printed with every table (timings on a shared machine).</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

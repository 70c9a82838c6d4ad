namespace SparseCircuits.Bench;

static class BenchArgs
{
    /// <summary>The value after <paramref name="name"/>, or null.</summary>
    public static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

namespace SparseCircuits.Tests.Official;

/// <summary>
/// The files of TestData/openai-release (its README.md says what they are): a tiny model written
/// by PyTorch in the release's format with independently computed logits, and the release's
/// tinypython_2k tokenizer with golden encodings.
/// </summary>
static class ReleaseFixtures
{
    public static string Root { get; } = Path.Combine(RepoRoot(), "tests", "SparseCircuits.Tests", "TestData", "openai-release");

    /// <summary>final_model.pt, beeg_config.json and expected.safetensors.</summary>
    public static string TinyModel => Path.Combine(Root, "tiny");

    /// <summary>encoder.json, vocab.bpe and golden.jsonl.</summary>
    public static string Tokenizer => Path.Combine(Root, "tinypython_2k");

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SparseCircuits.slnx"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}

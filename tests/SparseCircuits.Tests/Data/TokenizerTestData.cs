using SparseCircuits.Data;

namespace SparseCircuits.Tests.Data;

/// <summary>Small built-in data for tokenizer tests (never the real corpus), and temp directories.</summary>
static class TokenizerTestData
{
    /// <summary>A few Python-like documents: enough repetition that training learns real merges.</summary>
    public static readonly string[] PythonDocuments =
    [
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n\n    def __repr__(self):\n        return f\"Point({self.x}, {self.y})\"\n",
        "import os\nimport sys\n\nfor name in os.listdir('.'):\n    if name.endswith('.py'):\n        print(name)\n",
        "values = [1, 2, 3, 1000, 123456]\nresult = {}\nfor i, value in enumerate(values):\n    result[i] = value * 2\n",
        "# comment with unicode: héllo wörld, 中文, emoji 😀\ns = \"\"\"docstring\n\tindented with a tab\r\n\"\"\"\n",
        "try:\n    x = int('42')\nexcept ValueError as error:\n    raise RuntimeError('bad') from error\nfinally:\n    pass\n",
        "if __name__ == '__main__':\n    main()\n",
    ];

    static CodeTokenizer? _trained;

    /// <summary>A tokenizer trained on <see cref="PythonDocuments"/> (vocab 400), shared because training is deterministic.</summary>
    public static CodeTokenizer Trained => _trained ??= CodeTokenizer.FromModel(BpeTrainer.Train(PythonDocuments, 400));
}

sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sc-tokenizer-test-" + Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

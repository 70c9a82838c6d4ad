using SparseCircuits.Core;

namespace SparseCircuits.Tasks;

/// <summary>with_as: <c>with open(...)</c> continues with <c>as f:</c>; <c>f = open(...)</c> ends the line.</summary>
public sealed class WithAs : ContrastTask
{
    public override string Name => "with_as";
    public override string Description => "A file (or similar resource) is opened; the prompt ends after the call's last argument, before its closing parenthesis.";
    public override string Cue => "Whether the line starts with `with` (positive: `) as f:`) or assigns the call to a name (negative: `)` then newline).";
    public override string TokLabel => ") as";
    public override string AltLabel => ")\\n";

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        string handle = c.Pick(["f", "fh", "fp", "infile", "outfile", "handle", "src", "dst", "stream", "file", "reader", "conn", "archive", "db", "out", "fin", "fout"]);
        var (before, indent) = c.Scaffold(avoid: [handle]);
        // The last argument ends in a letter: a closing quote or parenthesis would fuse with `)` into one pre-token.
        string pathVar = c.Pick(["path", "filename", "file_path", "fname", "input_path", "output_path", "self.path", "args.input", "args.output",
            "config_file", "log_file", "path_name", "target", "source", "full_path", "csv_path", "json_path", "model_path", "db_path", "name"]);
        string q = c.Quote();
        string mode = q + c.Pick(["r", "w", "rb", "wb", "a"]) + q;
        string module = c.Pick(["gzip.open", "bz2.open", "tarfile.open", "zipfile.ZipFile", "io.open", "codecs.open"]);
        string call = c.Int(0, 9) switch
        {
            <= 3 => $"open({pathVar}",
            4 => $"open({pathVar}, mode",
            5 => $"open({pathVar}, {mode}, encoding=encoding",
            6 => $"open(os.path.join({c.Pick(PythonPools.Directories)}_dir, {pathVar}.split(sep)[0]), newline=newline",
            7 => $"{module}({pathVar}",
            8 => $"sqlite3.connect({pathVar}",
            _ => $"open({pathVar}, {mode}, buffering=size",
        };
        return new ContrastPair(
            $"{before}{indent}with {call}",
            $"{before}{indent}{handle} = {call}",
            $") as {handle}:\n",
            ")\n");
    }
}

/// <summary>with_open: the file's name says whether it is read or written.</summary>
public sealed class WithOpen : ContrastTask
{
    public override string Name => "with_open";
    public override string Description => "An open() call is cut off right after the opening quote of its mode argument.";
    public override string Cue => "Whether the file name (or path variable) suggests input, read 'r' (positive), or output, write 'w' (negative).";
    public override string TokLabel => "r";
    public override string AltLabel => "w";

    static readonly (string Read, string Write)[] Words =
    [
        ("input", "output"), ("source", "target"), ("in", "out"), ("raw", "clean"), ("config", "report"), ("settings", "summary"),
        ("template", "rendered"), ("original", "backup"), ("src", "dst"), ("train", "predictions"), ("data", "results"),
        ("words", "counts"), ("readme", "export"), ("query", "answer"), ("input", "results"), ("source", "dump"),
        ("data", "submission"), ("config", "log"), ("dataset", "model_out"), ("orig", "new"),
    ];

    public override ContrastPair Generate(SplitMix64 random, PromptContext context)
    {
        var c = new PythonContext(random, context);
        var (read, write) = c.Pick(Words);
        var (before, indent) = c.Scaffold();
        string q = c.Quote();
        string ext = c.Pick(PythonPools.Extensions);
        string stem = c.Chance(0.4) ? "_" + c.Pick(PythonPools.FileStems) : "";
        string dir = c.Chance(0.4) ? c.Pick(PythonPools.Directories) + "/" : "";
        string dirVar = c.Pick(PythonPools.Directories) + "_dir";
        // The file name is either a literal or a variable; the positive and negative differ only in the word.
        Func<string, string> name = c.Int(0, 3) switch
        {
            0 or 1 => w => $"{q}{dir}{w}{stem}.{ext}{q}",
            2 => w => $"{w}_path",
            _ => w => $"os.path.join({dirVar}, {q}{w}{stem}.{ext}{q})",
        };
        string lead = c.Chance(0.7) ? "with " : $"{c.Pick(["f", "fh", "handle", "fp"])} = ";
        return new ContrastPair(
            $"{before}{indent}{lead}open({name(read)}, {q}",
            $"{before}{indent}{lead}open({name(write)}, {q}",
            $"r{q})",
            $"w{q})");
    }
}

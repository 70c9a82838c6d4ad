using System.ComponentModel;
using SparseCircuits.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

public sealed class CorpusBuildCommand : Command<CorpusBuildCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--source <DIR>")]
        [Description("Directory of .py files (recursive) or a .py file; repeatable. Default: the machine's Python standard library.")]
        public string[] Sources { get; init; } = [];

        [CommandOption("--out <DIR>")]
        [Description("Output corpus directory (replaced if it holds an earlier corpus).")]
        public string Out { get; init; } = "data/corpus";

        [CommandOption("--synthetic <SIZE>")]
        [Description("Add generated simple Python programs of this total size (50MB, 512kB; 0 = none) next to the real files.")]
        [DefaultValue("0")]
        public string Synthetic { get; init; } = "0";

        [CommandOption("--synthetic-seed <N>")]
        [Description("Seed of the generated programs.")]
        [DefaultValue(0UL)]
        public ulong SyntheticSeed { get; init; }

        [CommandOption("--synthetic-only")]
        [Description("Only the generated programs: no real files, not even the default standard library.")]
        public bool SyntheticOnly { get; init; }

        [CommandOption("--split <TRAIN/VAL/TEST>")]
        [Description("Split shares by path hash.")]
        [DefaultValue("98/1/1")]
        public string Split { get; init; } = "98/1/1";

        [CommandOption("--max-file-kb <KB>")]
        [Description("Skip files larger than this.")]
        [DefaultValue(1024)]
        public int MaxFileKb { get; init; } = 1024;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        Core.OutputPath.CheckDirectory(settings.Out);
        var (train, val) = CorpusOptions.ParseSplit(settings.Split);
        var options = new CorpusOptions
        {
            Sources = settings.Sources,
            SyntheticBytes = CorpusOptions.ParseSize(settings.Synthetic),
            SyntheticSeed = settings.SyntheticSeed,
            SyntheticOnly = settings.SyntheticOnly,
            MaxFileBytes = (long)settings.MaxFileKb * 1024,
            TrainFraction = train,
            ValFraction = val,
        };
        var manifest = ConsoleProgress.Run(settings, progress => CorpusBuilder.Build(options, settings.Out, progress));
        var table = new Table().AddColumns("split", "documents", "MB");
        foreach (var (name, split) in manifest.Splits)
            table.AddRow(name, split.Documents.ToString("N0"), (split.Bytes / 1e6).ToString("0.0"));
        AnsiConsole.Write(table);
        Console.WriteLine($"corpus written to {Path.GetFullPath(settings.Out)}");
        return 0;
    }
}

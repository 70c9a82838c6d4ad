using System.ComponentModel;
using SparseCircuits.Official;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits import official DIR --out RUN</c>: one of the paper's released models as a run directory.</summary>
public sealed class ImportOfficialCommand : Command<ImportOfficialCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandArgument(0, "<DIR>")]
        [Description("A released model's directory: final_model.pt and beeg_config.json.")]
        public string Source { get; init; } = "";

        [CommandOption("--out <RUN>")]
        [Description("The run directory to create (new or empty).")]
        public string Out { get; init; } = "";

        [CommandOption("--tokenizer <DIR>")]
        [Description("The model's tokenizer (the release's tinypython_2k: encoder.json + vocab.bpe). Default: DIR's own.")]
        public string? Tokenizer { get; init; }

        [CommandOption("--data <DIR>")]
        [Description("Token shards made with that tokenizer (`circuits corpus tokenize --tokenizer`), recorded as the run's data for means, eval and report.")]
        public string? Data { get; init; }

        public override Spectre.Console.ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Out) ? Spectre.Console.ValidationResult.Error("--out is required") : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var request = new OfficialImportRequest(settings.Source, settings.Out, settings.Tokenizer, settings.Data,
            "circuits " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        OfficialImportResult result = ConsoleProgress.Run(settings, progress => OfficialImport.Run(request, progress));
        var m = result.Config.Model;
        Console.WriteLine($"imported {result.Parameters:N0} parameters ({m.NLayer} layers, d_model {m.DModel}, {m.NHead} heads of {m.DHead}, " +
                          $"d_mlp {m.MlpWidth}, n_ctx {m.NCtx}, vocab {m.VocabSize}; weight density {result.Config.WeightDensity:0.####}) -> {result.RunDir}");
        if (result.Source.IgnoredKeys.Count > 0) Console.WriteLine($"config keys without effect on the forward pass: {string.Join(", ", result.Source.IgnoredKeys)}");
        foreach (string note in result.Source.Notes) Console.WriteLine($"note: {note}");
        return 0;
    }
}

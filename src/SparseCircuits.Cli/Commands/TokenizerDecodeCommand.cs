using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Data;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tokenizer decode</c>: prints the text of token ids.</summary>
public sealed class TokenizerDecodeCommand : Command<TokenizerDecodeCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--tokenizer <PATH>")]
        [Description("Tokenizer directory or a file in it (ours, or GPT-2 vocab.json + merges.txt).")]
        public string? Tokenizer { get; init; }

        [CommandArgument(0, "<IDS>")]
        [Description("Token ids, as separate arguments or comma-separated.")]
        public string[] Ids { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Tokenizer)) throw new SparseCircuitsException("--tokenizer is required");
        var ids = new List<int>();
        foreach (string part in settings.Ids.SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!int.TryParse(part, out int id)) throw new SparseCircuitsException($"not a token id: \"{part}\"");
            ids.Add(id);
        }
        var tokenizer = CodeTokenizer.Load(settings.Tokenizer);
        // Decode everything first, so a bad id prints nothing but the error.
        string text = tokenizer.Decode(ids.ToArray());
        Console.WriteLine(text);
        return 0;
    }
}

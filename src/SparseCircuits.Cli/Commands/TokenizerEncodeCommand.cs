using System.ComponentModel;
using System.Text;
using SparseCircuits.Core;
using SparseCircuits.Data;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits tokenizer encode</c>: shows how text splits into tokens.</summary>
public sealed class TokenizerEncodeCommand : Command<TokenizerEncodeCommand.Settings>
{
    public sealed class Settings : GlobalSettings
    {
        [CommandOption("--tokenizer <PATH>")]
        [Description("Tokenizer directory or a file in it (ours, or GPT-2 vocab.json + merges.txt).")]
        public string? Tokenizer { get; init; }

        [CommandArgument(0, "[TEXT]")]
        [Description("Text to encode (or use --file).")]
        public string? Text { get; init; }

        [CommandOption("--file <FILE>")]
        [Description("Encode this UTF-8 file instead of TEXT.")]
        public string? File { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Tokenizer)) throw new SparseCircuitsException("--tokenizer is required");
        if ((settings.Text is null) == (settings.File is null)) throw new SparseCircuitsException("give either TEXT or --file");
        var tokenizer = CodeTokenizer.Load(settings.Tokenizer);
        string text = settings.Text ?? ReadFile(settings.File!);

        int[] ids = tokenizer.Encode(text);
        Console.WriteLine($"{ids.Length} tokens, {Encoding.UTF8.GetByteCount(text)} bytes");
        Console.WriteLine($"ids: {string.Join(' ', ids)}");
        Console.WriteLine($"tokens: {string.Concat(ids.Select(id => $"[{tokenizer.TokenText(id)}]"))}");
        return 0;
    }

    static string ReadFile(string path)
    {
        if (!System.IO.File.Exists(path)) throw new SparseCircuitsException($"file not found: {path}");
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(System.IO.File.ReadAllBytes(path)); }
        catch (DecoderFallbackException) { throw new SparseCircuitsException($"{path} is not valid UTF-8"); }
    }
}

using System.ComponentModel;
using SparseCircuits.Core;
using SparseCircuits.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli.Commands;

/// <summary><c>circuits sample</c>: generate code from a trained model.</summary>
public sealed class SampleCommand : Command<SampleCommand.Settings>
{
    public sealed class Settings : TrainedModelSettings
    {
        [CommandOption("--prompt <TEXT>")]
        [Description("Text to continue (\\n and \\t are unescaped).")]
        [DefaultValue("def ")]
        public string Prompt { get; init; } = "def ";

        [CommandOption("--tokens <N>")]
        [DefaultValue(200)]
        [Description("Tokens to generate at most.")]
        public int Tokens { get; init; } = 200;

        [CommandOption("--temperature <T>")]
        [DefaultValue(0.8)]
        [Description("Softmax temperature; 0 is greedy.")]
        public double Temperature { get; init; } = 0.8;

        [CommandOption("--top-k <K>")]
        [DefaultValue(40)]
        [Description("Sample among the K most likely tokens; 0 for all.")]
        public int TopK { get; init; } = 40;

        [CommandOption("--seed <S>")]
        [DefaultValue(0UL)]
        public ulong Seed { get; init; }

        [CommandOption("--next <N>")]
        [Description("Instead of generating, list the N most likely next tokens after the prompt with their probabilities.")]
        public int? Next { get; init; }

        [CommandOption("--json")]
        [Description("With --next: print the list as JSON.")]
        public bool Json { get; init; }
    }

    public sealed record NextToken(int Id, string Text, double Probability);

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var options = new SamplingOptions(settings.Tokens, settings.Temperature, settings.TopK, settings.Seed).Validate();
        if (settings.Next < 1) throw new SparseCircuitsException($"--next must be >= 1 (got {settings.Next})");
        if (settings.Json && settings.Next is null) throw new SparseCircuitsException("--json goes with --next (generated text is printed as it is)");
        using var trained = TrainedModel.Load(settings.Model, settings.Checkpoint);
        string prompt = settings.Prompt.Replace("\\n", "\n").Replace("\\t", "\t");
        if (settings.Next is int count)
        {
            var next = TextSampler.NextTokens(trained.Model, trained.Tokenizer.Encode(prompt), count)
                .Select(t => new NextToken(t.Id, trained.Tokenizer.Decode([t.Id]), t.Probability)).ToList();
            if (settings.Json) Console.WriteLine(Core.Json.Serialize(next));
            else
            {
                var table = new Table().AddColumns("token", "id", "probability");
                foreach (var t in next) table.AddRow(Markup.Escape("[" + TasksCommon.Visible(t.Text) + "]"), t.Id.ToString(), $"{t.Probability:0.0000}");
                AnsiConsole.Write(table);
            }
            return 0;
        }
        int[] generated = TextSampler.Generate(trained.Model, trained.Tokenizer.Encode(prompt), options, trained.Tokenizer.EndOfTextId, cancellation);
        Console.Write(prompt);
        Console.WriteLine(trained.Tokenizer.Decode(generated));
        return 0;
    }
}

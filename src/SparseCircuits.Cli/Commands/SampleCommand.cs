using System.ComponentModel;
using SparseCircuits.Training;
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
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var options = new SamplingOptions(settings.Tokens, settings.Temperature, settings.TopK, settings.Seed).Validate();
        using var trained = TrainedModel.Load(settings.Model, settings.Checkpoint);
        string prompt = settings.Prompt.Replace("\\n", "\n").Replace("\\t", "\t");
        int[] generated = TextSampler.Generate(trained.Model, trained.Tokenizer.Encode(prompt), options, trained.Tokenizer.EndOfTextId, cancellation);
        Console.Write(prompt);
        Console.WriteLine(trained.Tokenizer.Decode(generated));
        return 0;
    }
}

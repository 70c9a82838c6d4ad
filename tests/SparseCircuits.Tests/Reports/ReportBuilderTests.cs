using System.Diagnostics;
using System.Text.Json;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Reports;
using SparseCircuits.Tasks;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Reports;

public sealed class ReportBuilderTests(ReportRun run, ITestOutputHelper output) : IClassFixture<ReportRun>
{
    ReportOptions Options => new() { ModelDir = run.ModelDir, ProfileTokens = 512, AblationPrompts = 8, PairsPerClass = 2, AttentionWindow = 6 };

    [Fact]
    public void Stops_at_its_first_progress_report_once_interrupted()
    {
        // `circuits report` writes the page only after the build returns: an interrupted build leaves no page.
        var cancel = new CancelAtFirstReport();
        Assert.ThrowsAny<OperationCanceledException>(() => ReportBuilder.Build(Options, cancel));
        Assert.Equal(1, cancel.Reports);
    }

    [Fact]
    public void Builds_every_part_of_the_report_from_a_trained_and_pruned_run()
    {
        var clock = Stopwatch.StartNew();
        ReportData report = ReportBuilder.Build(Options, NullProgress.Instance);
        output.WriteLine($"report built in {clock.Elapsed.TotalSeconds:0.0} s");
        string json = ReportJson.Serialize(report);
        output.WriteLine($"JSON: {json.Length / 1024.0:0} KB");
        Assert.DoesNotContain("NaN", json);
        Assert.DoesNotContain("Infinity", json);
        using (JsonDocument.Parse(json)) { }
        Assert.Equal(json, ReportJson.Serialize(ReportJson.Deserialize(json)));

        Assert.Equal("demo", report.Model.Name);
        Assert.Equal(20, report.TrainingCurve.Count);
        Assert.Equal(2, report.TrainingCurve.Count(p => p.ValLoss is not null));
        Assert.NotNull(report.Model.UnigramValLoss);

        // Task table: the summary's rows in order, the pruned one linked, then the circuit it does not list.
        Assert.Equal(["quotes", "bracket_counting", "quotes"], report.Tasks.Select(t => t.Task));
        Assert.Equal(["quotes", null, "lost"], report.Tasks.Select(t => t.CircuitId));
        Assert.Equal(run.Quotes.Validation.FullModel.Loss, report.Tasks[0].FullModelLoss!.Value, 4);
        Assert.Contains("unavailable", report.Tasks[1].Reason);

        CircuitView quotes = report.Circuits.Single(c => c.Id == "quotes");
        Assert.Equal(ReportRun.Nodes.Select(n => n.ToString()), quotes.Nodes.Select(n => n.Id));
        Assert.Equal(12, quotes.Rows.Count);
        Assert.Equal(8, quotes.AblationPrompts);
        Assert.Contains(quotes.Notes, n => n.Contains("first 8 of 12 test prompts"));
        Assert.Equal(["answer \"'\"", "answer '\"'"], quotes.ClassNames);
        // The view draws every listed edge; its headline count is the paper's (weights only).
        Assert.Equal(run.Quotes.Edges.Count, quotes.Edges.Count);
        Assert.Equal(run.Quotes.EdgeCount, quotes.Edges.Count(e => e.Kind == CircuitGraph.Weight));
        Assert.Equal(run.Quotes.EdgeCount, quotes.EdgeCount);
        Assert.Equal(quotes.Edges.Select(e => Math.Abs(e.Weight)).DefaultIfEmpty(0).Max(), quotes.MaxAbsWeight);
        // The ranking's prefixes, then every smaller circuit the refinement accepted, all with edges.
        Assert.Equal(run.Quotes.LossCurve.Count + (run.Quotes.Refinement?.Steps.Count ?? 0), quotes.LossCurve.Count);
        Assert.Equal(run.Quotes.LossCurve.Count, quotes.LossCurve.Count(p => p.Stage == LossCurveView.Prefix));
        Assert.All(quotes.LossCurve, p => Assert.NotNull(p.Edges));
        Assert.Equal([8, 2], quotes.Layers.Select(l => l.Nodes));
        AssertAblationsMatchAnIndependentEvaluation(quotes);

        foreach (NodeView node in quotes.Nodes)
        {
            Assert.Equal(2, node.TaskActivations!.Pairs.Count);
            Assert.Equal(node.Location is "attn.q" or "attn.k", node.Attention is not null);
            NodeProfile profile = report.NodeProfiles[node.Id];
            Assert.Equal(512, profile.TokensSeen);
            Assert.Equal(8, profile.Snippets.Count);
        }
        Assert.Equal([1], quotes.Nodes.Single(n => n.Id == "0.attn.q[1]").Attention!.KeptChannels);
        Assert.Empty(quotes.Nodes.Single(n => n.Id == "1.attn.q[20]").Attention!.KeptChannels);
        Assert.Equal(6, quotes.Nodes.Single(n => n.Id == "0.attn.k[2]").Attention!.Tokens.Count);

        // A circuit whose task file is gone still shows, with what needs the task left empty.
        CircuitView lost = report.Circuits.Single(c => c.Id == "lost");
        Assert.Contains(lost.Notes, n => n.Contains("no longer exists"));
        Assert.All(lost.Nodes, n => Assert.Null(n.AblatedLoss));
        Assert.All(lost.Nodes, n => Assert.Null(n.TaskActivations));
        Assert.All(lost.Layers, l => Assert.Null(l.AblationDelta));
        Assert.Equal(0, lost.AblationPrompts);

        Assert.Equal(32, report.Embeddings.Channels.Count);
        Assert.Equal(["quotes", "lost"], report.Embeddings.Channels[3].UsedBy);
        Assert.Equal(["quotes", "lost"], report.Embeddings.Channels[5].UsedBy);
        Assert.Empty(report.Embeddings.Channels[4].UsedBy);
    }

    void AssertAblationsMatchAnIndependentEvaluation(CircuitView view)
    {
        using var trained = TrainedModel.Load(run.ModelDir);
        using var means = MeanCache.Load(ModelReference.Of(trained));
        var space = new NodeSpace(trained.Config.Model);
        using var ablation = new NodeAblation(space, means, AblationKind.Mean);
        var test = TaskSource.FromFile(run.TaskFile, trained.Tokenizer, 0, new TaskDatasetOptions { MaxPromptTokens = 32 }).Test.Take(8).ToList();
        double Loss(IEnumerable<NodeId> kept)
        {
            using var scope = NewDisposeScope();
            return TaskEvaluator.Score(trained.Model, test, ablation.Fixed(space.Selection(kept))).Loss;
        }
        double reference = Loss(ReportRun.Nodes);
        Assert.Equal(reference, view.AblationReferenceLoss!.Value, 4);
        for (int i = 0; i < ReportRun.Nodes.Length; i++)
            Assert.Equal(Loss(ReportRun.Nodes.Where((_, j) => j != i)), view.Nodes[i].AblatedLoss!.Value, 4);
        Assert.Equal(Loss(ReportRun.Nodes.Where(n => n.Layer != 0)) - reference, view.Layers[0].AblationDelta!.Value, 4);
        Assert.Equal(Loss(ReportRun.Nodes.Where(n => n.Layer != 1)) - reference, view.Layers[1].AblationDelta!.Value, 4);
    }

    [Fact]
    public void The_model_card_counts_the_nonzeros_of_the_loaded_checkpoint()
    {
        using var trained = TrainedModel.Load(run.ModelDir);
        ModelCard card = ModelCardBuilder.Build(trained, unigramValLoss: 1.5);
        using var scope = NewDisposeScope();
        var weights = SafeTensors.Read(Path.Combine(trained.CheckpointDir, CheckpointStore.ModelFile)).Tensors;
        long nonzeros = weights.Where(kv => kv.Key != "final_logits_bias").Sum(kv => kv.Value.count_nonzero().item<long>());
        Assert.Equal(nonzeros, card.Nonzeros);
        Assert.Equal(trained.Config.Model.ParameterCount(), card.Parameters);
        Assert.True(card.Nonzeros < card.Parameters);
        var sparse = trained.Model.SparseMatrices();
        double density = sparse.Sum(p => p.Tensor.count_nonzero().item<long>()) / (double)sparse.Sum(p => p.Tensor.numel());
        Assert.True(Math.Abs(density - card.Density) < 1e-4, $"{density} vs {card.Density}");
        Assert.Equal(new CheckpointStore(trained.Run.CheckpointsDir).Best()!.ValLoss!.Value, card.ValLoss!.Value, 4);
        Assert.Equal(1.5, card.UnigramValLoss);
        Assert.Equal(trained.Step * 4 * 32, card.TrainTokens);
        Assert.Contains(new KeyValuePair<string, string>("model.n_layer", "2"), card.Config);
        Assert.Contains(new KeyValuePair<string, string>("preset", "tiny"), card.Config);
    }

    [Fact]
    public void Circuits_are_found_in_each_accepted_layout()
    {
        using var dir = new TempDir();
        string quotes = Path.Combine(run.CircuitsDir, "quotes", CircuitFile.FileName);
        // One circuit.json directly in the directory.
        File.Copy(quotes, dir.Write("single/circuit.json", ""), overwrite: true);
        var single = CircuitCatalog.Find(dir["single"], run.ModelDir);
        Assert.Equal(["single"], single.Circuits.Select(c => c.Id));
        // Subdirectories without a summary.
        File.Copy(quotes, dir.Write("many/b/circuit.json", ""), overwrite: true);
        File.Copy(quotes, dir.Write("many/a/circuit.json", ""), overwrite: true);
        dir.Write("many/notes/readme.txt", "not a circuit");
        Assert.Equal(["a", "b"], CircuitCatalog.Find(dir["many"], run.ModelDir).Circuits.Select(c => c.Id));
        Assert.Null(CircuitCatalog.Find(dir["many"], run.ModelDir).Summary);
        // The default: the circuits directory beside the model.
        var beside = CircuitCatalog.Find(null, run.ModelDir);
        Assert.Equal(run.CircuitsDir, beside.Directory);
        Assert.Equal(["quotes", "lost"], beside.Circuits.Select(c => c.Id));
        Assert.Empty(CircuitCatalog.Find(null, dir["many/a"]).Circuits); // nothing beside: no circuits, no error
    }

    [Fact]
    public void Errors_a_user_can_cause_are_one_clear_line()
    {
        using var dir = new TempDir();
        void Expect(ReportOptions options, string message)
        {
            var e = Assert.Throws<SparseCircuitsException>(() => ReportBuilder.Build(options, NullProgress.Instance));
            Assert.Contains(message, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Expect(Options with { ModelDir = dir["missing"] }, "model directory not found");
        Expect(Options with { CircuitsDir = dir["missing"] }, "circuits directory not found");
        Directory.CreateDirectory(dir["empty"]);
        Expect(Options with { CircuitsDir = dir["empty"] }, "holds no circuits");
        Expect(Options with { ProfileTokens = 0 }, "profile_tokens");
        Expect(Options with { AttentionWindow = 0 }, "attention_window");

        Circuit foreign = run.Quotes with
        {
            Model = run.Quotes.Model with { Source = run.Quotes.Model.Source! with { CheckpointSha256 = new string('0', 64), Checkpoint = "checkpoints/step_000999" } },
        };
        CircuitFile.Save(dir["foreign/circuit.json"], foreign);
        Expect(Options with { CircuitsDir = dir["foreign"] }, "step_000999");

        dir.Write("damaged/q/circuit.json", "{\"format\": 1,");
        Expect(Options with { CircuitsDir = dir["damaged"] }, "damaged");

        dir.Write("summary-only/summary.json", """{"format": 1, "target_loss": 0.15, "tasks": [{"task": "x", "pruned": true, "circuit_file": "x/circuit.json"}]}""");
        Expect(Options with { CircuitsDir = dir["summary-only"] }, "the file is missing");
        Expect(Options with { ShardsDir = dir["empty"] }, "shards.json");
        // Token ids of another vocabulary would be silently wrong (the check eval and means share: TrainedModel.Shards).
        using var other = SyntheticData.From(SyntheticData.CopyTaskDocuments(60, seed: 2), vocab: 280);
        Expect(Options with { ShardsDir = other.ShardDir }, "different tokenizer");
    }

    [Fact]
    public void Options_default_to_the_sizes_documented()
    {
        var options = new ReportOptions { ModelDir = "m" }.Validate();
        Assert.Equal(32_768, options.ProfileTokens);
        Assert.Equal(3, options.SnippetsPerBucket);
        Assert.Equal((12, 4), (options.SnippetBefore, options.SnippetAfter));
        Assert.Equal(4, options.PairsPerClass);
        Assert.Equal(24, options.AttentionWindow);
        Assert.Equal(10, options.EmbeddingTokensPerSide);
        Assert.Equal(32, options.AblationPrompts);
        Assert.Equal(CheckpointChoice.Best, options.Checkpoint);
    }
}

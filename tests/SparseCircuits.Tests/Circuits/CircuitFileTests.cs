using System.Text.Json.Nodes;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Circuits;

/// <summary>circuit.json: round trip, contents, and clear errors for damaged files.</summary>
public sealed class CircuitFileTests
{
    static Circuit Planted()
    {
        using var model = PlantedModel.Create();
        using var means = PlantedModel.Means(model);
        var reference = new ModelReference("/runs/planted", "checkpoints/step_000001", 1, new string('c', 64));
        return CircuitPruning.Run(model, means, PlantedModel.Task(), new PruningConfig { Steps = 150, Runs = 1, ControlSets = 3 }, NullProgress.Instance, reference, "planted.jsonl");
    }

    [Fact]
    public void A_circuit_round_trips_and_documents_itself()
    {
        using var dir = new TempDir();
        Circuit circuit = Planted();
        string path = dir["out/circuit.json"];
        CircuitFile.Save(path, circuit);
        Circuit loaded = CircuitFile.Load(dir["out"]);
        Assert.Equal(Json.Serialize(circuit), Json.Serialize(loaded));

        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(2, (int)json["format"]!);
        Assert.Equal("sparse-circuits-circuit", (string)json["kind"]!);
        Assert.Equal("learned_mask", (string)json["method"]!);
        Assert.Equal("mean", (string)json["ablation"]!);
        Assert.Equal(new string('c', 64), (string)json["model"]!["source"]!["checkpoint_sha256"]!);
        Assert.Equal(0.15, (double)json["target_loss"]!);
        Assert.Equal("0.mlp.post_act[1]", (string)json["nodes"]![2]!["id"]!);
        Assert.NotNull(json["nodes"]![0]!["mean"]);
        Assert.Equal("transformer.h.0.mlp.c_fc.weight", (string)json["edges"]![0]!["parameter"]!);
        Assert.Equal(4, (int)json["edge_count"]!);
        Assert.NotNull(json["validation"]!["sufficiency"]!["loss"]);
        Assert.NotNull(json["validation"]!["control"]!["loss_std"]);
        Assert.NotNull(json["validation"]!["zero_ablation"]!["necessity"]!["accuracy"]);
        Assert.True(json["loss_curve"]!.AsArray().Count >= 5);
        Assert.Equal(1e-4, (double)json["hyperparameters"]!["k_coef"]!);
    }

    [Fact]
    public void A_format_1_file_counting_every_listed_edge_loads_with_the_papers_count()
    {
        using var dir = new TempDir();
        Circuit circuit = Planted();
        var extra = new CircuitEdge(circuit.Nodes[0].Id, circuit.Nodes[1].Id, CircuitGraph.Residual, 1, "transformer.h.0.ln_2.weight", [0]);
        var old = circuit with { Format = 1, Edges = [.. circuit.Edges, extra], EdgeCount = circuit.Edges.Count + 1 };
        string path = dir["circuit.json"];
        CircuitFile.Save(path, old);
        Circuit loaded = CircuitFile.Load(path);
        Assert.Equal(Circuit.CurrentFormat, loaded.Format);
        Assert.Equal(circuit.Edges.Count, loaded.EdgeCount);
        Assert.Equal(circuit.Edges.Count + 1, loaded.Edges.Count);

        // In format 2 the same count is an inconsistency.
        CircuitFile.Save(path, old with { Format = 2 });
        Assert.Contains("weight edges are listed", Assert.Throws<SparseCircuitsException>(() => CircuitFile.Load(path)).Message);
    }

    [Fact]
    public void Damaged_circuit_files_give_one_clear_error()
    {
        using var dir = new TempDir();
        string path = dir["circuit.json"];
        CircuitFile.Save(path, Planted());
        string good = File.ReadAllText(path);

        void Expect(string text, string message)
        {
            File.WriteAllText(path, text);
            var e = Assert.Throws<SparseCircuitsException>(() => CircuitFile.Load(path));
            Assert.Contains(message, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        string Edit(Action<JsonNode> change)
        {
            var node = JsonNode.Parse(good)!;
            change(node);
            return node.ToJsonString();
        }

        Expect(good[..(good.Length / 2)], "damaged");
        Expect("[]", "damaged");
        Expect(Edit(j => j["kind"] = "something-else"), "kind");
        Expect(Edit(j => j["format"] = 3), "format 3");
        Expect(Edit(j => j["node_count"] = 99), "node_count");
        Expect(Edit(j => j["edges"]![0]!["target"] = "0.mlp.post_act[3]"), "not a node of the circuit");
        Expect(Edit(j => j["nodes"]![0]!["location"] = "attn.z"), "unknown node location");
        Expect(Edit(j => j["nodes"]![1]!["index"] = 3), "does not match");
        // An index past its layer's width (report and serve used to crash on it).
        Expect(Edit(j => { j["nodes"]![0]!["index"] = 4096; j["nodes"]![0]!["id"] = $"{(int)j["nodes"]![0]!["layer"]!}.{(string)j["nodes"]![0]!["location"]!}[4096]"; }), "outside the model");
        Expect(Edit(j => j.AsObject().Remove("validation")), "damaged");
        Assert.Contains("not found", Assert.Throws<SparseCircuitsException>(() => CircuitFile.Load(dir["nope.json"])).Message);
    }
}

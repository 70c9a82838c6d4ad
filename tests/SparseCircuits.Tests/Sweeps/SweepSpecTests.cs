using SparseCircuits.Core;
using SparseCircuits.Sweeps;
using SparseCircuits.Tests.Support;

namespace SparseCircuits.Tests.Sweeps;

public sealed class SweepSpecTests
{
    const string Valid = """
        {
          "name": "t",
          "data": { "sources": ["src"], "vocab_size": 300 },
          "training": { "steps": 10, "model": { "n_ctx": 32 } },
          "models": [
            { "name": "s", "preset": "tiny", "training": { "weight_density": 0.5 } },
            { "name": "d", "preset": "tiny", "dense": true }
          ],
          "tasks": ["else_elif", "quotes.jsonl"],
          "target_loss": 0.4,
          "pruning": { "steps": 5, "budget": 1 },
          "prompts": { "max_prompt_tokens": 30, "train_pairs": 8 }
        }
        """;

    static SweepSpec LoadText(TempDir dir, string json)
    {
        dir.Write("quotes.jsonl", """{"positive": "x = 'a", "negative": "x = \"a", "tok": "'", "alt": "\""}""");
        return SweepSpec.Load(dir.Write("sweep.json", json));
    }

    static void Fails(string json, string expected)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SparseCircuitsException>(() => LoadText(dir, json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_valid_spec_loads_with_paths_resolved_and_configs_layered()
    {
        using var dir = new TempDir();
        SweepSpec spec = LoadText(dir, Valid);
        Assert.Equal(dir["src"], spec.Data.Sources.Single());
        Assert.Equal(dir["quotes.jsonl"], spec.Tasks[1]);
        var sparse = spec.TrainingConfig(spec.Model("s"), 300);
        Assert.Equal((10L, 32, 0.5, false, "tiny"), (sparse.Steps, sparse.Model.NCtx, sparse.WeightDensity, sparse.Dense, sparse.Preset));
        Assert.True(spec.TrainingConfig(spec.Model("d"), 300).Dense);
        var pruning = spec.PruningConfig();
        Assert.Equal((0.4, 5, 1), (pruning.TargetLoss, pruning.Steps, pruning.Runs));
        Assert.Equal(30, spec.TaskOptions().MaxPromptTokens);

        // What the sweep stores is read back identically.
        string stored = dir.Write("stored/sweep.json", spec.ToJson());
        Assert.Equal(spec.ToJson(), SweepSpec.Load(stored).ToJson());
    }

    [Fact]
    public void Bad_fields_are_named()
    {
        Fails(Valid.Replace("\"target_loss\"", "\"target_los\""), "unknown field");
        Fails(Valid.Replace("\"dense\": true", "\"dens\": true"), "models[1]");
        Fails(Valid.Replace("\"preset\": \"tiny\", \"dense\"", "\"preset\": \"huge\", \"dense\""), "models[1].preset 'huge' is unknown");
        Fails(Valid.Replace("\"weight_density\": 0.5", "\"weight_density\": 2"), "models[0] (s) training: training config: weight_density");
        Fails(Valid.Replace("\"weight_density\": 0.5", "\"wieght_density\": 0.5"), "unknown config field 'wieght_density'");
        Fails(Valid.Replace("\"name\": \"d\"", "\"name\": \"s\""), "used twice");
        Fails(Valid.Replace("\"else_elif\"", "\"no_such_task\""), "tasks[0] 'no_such_task'");
        Fails(Valid.Replace("quotes.jsonl", "missing.jsonl"), "task file not found");
        Fails(Valid.Replace("\"budget\": 1", "\"budget\": 0"), "pruning: pruning config: runs");   // the old name of runs
        Fails(Valid.Replace("\"max_prompt_tokens\": 30", "\"max_prompt_tokens\": 1"), "prompts.max_prompt_tokens");
        Fails(Valid.Replace("\"target_loss\": 0.4", "\"target_loss\": -1"), "target_loss must be");
        Fails(Valid.Replace("\"target_loss\": 0.4", "\"target_loss\": 0.4, \"prune_repeats\": 0"), "prune_repeats must be 1..10");
        Fails("{ \"tasks\": [\"else_elif\"] }", "models is empty");
        Fails("{ \"models\": [{\"name\": \"a\"}] }", "tasks is empty");
        Fails("{ \"models\": [ }", "is not valid");
        Assert.Throws<SparseCircuitsException>(() => SweepSpec.Load("/no/such/sweep.json"));
    }

    [Fact]
    public void Built_in_specs_are_valid_and_unknown_ones_are_refused()
    {
        foreach (string name in SweepPresets.Names)
        {
            SweepSpec spec = SweepPresets.Get(name).Validate();
            Assert.Contains(spec.Models, m => m.Dense);
            Assert.Contains(spec.Models, m => !m.Dense);
            Assert.True(spec.Models.Where(m => !m.Dense).Select(m => spec.TrainingConfig(m, 2048).Model.DModel).Distinct().Count() >= 2);
        }
        var e = Assert.Throws<SparseCircuitsException>(() => SweepPresets.Get("cluster"));
        Assert.Contains("laptop, workstation", e.Message);
    }

    [Fact]
    public void Laptop_sparse_models_match_nonzeros_across_widths()
    {
        SweepSpec spec = SweepPresets.Get("laptop");
        // Matrix nonzeros (4 layers x 12 d^2 x density) pair up across the two widths.
        var budgets = spec.Models.Where(m => !m.Dense).Select(m => spec.TrainingConfig(m, 2048))
            .GroupBy(c => Math.Round(c.Model.NLayer * 12.0 * c.Model.DModel * c.Model.DModel * c.WeightDensity / 1000))
            .ToDictionary(g => g.Key, g => g.Select(c => c.Model.DModel).Order().ToList());
        Assert.All(budgets.Values, widths => Assert.Equal([64, 128], widths));
    }

    [Fact]
    public void The_documented_check_specs_change_only_what_they_say()
    {
        SweepSpec documented = SweepSpec.Load(Path.Combine(RepoPaths.Root, "docs", "specs", "laptop-long-pruning.json"));
        SweepSpec laptop = SweepPresets.Get("laptop");
        Assert.Equal(laptop.Models.Select(m => m.Name), documented.Models.Select(m => m.Name));
        foreach (SweepModel model in laptop.Models)
            Assert.Equal(Json.Serialize(laptop.TrainingConfig(model, 2048)), Json.Serialize(documented.TrainingConfig(documented.Model(model.Name), 2048)));
        Assert.Equal(600, documented.PruningConfig().Steps);

        // The second-seed check: the same models (a subset) and settings, only the training seed changes.
        SweepSpec seed1 = SweepSpec.Load(Path.Combine(RepoPaths.Root, "docs", "specs", "laptop-seed1.json"));
        Assert.NotEmpty(seed1.Models);
        foreach (SweepModel model in seed1.Models)
        {
            Assert.EndsWith("-s1", model.Name);
            var original = laptop.TrainingConfig(laptop.Model(model.Name[..^3]), 2048);
            var reseeded = seed1.TrainingConfig(model, 2048);
            Assert.Equal(1UL, reseeded.Seed);
            Assert.Equal(Json.Serialize(original with { Seed = 1 }), Json.Serialize(reseeded));
        }
        Assert.Equal(Json.Serialize(laptop.PruningConfig()), Json.Serialize(seed1.PruningConfig()));
        Assert.Equal(laptop.Tasks, seed1.Tasks);
        Assert.Equal((laptop.TargetLoss, laptop.PruneRepeats), (seed1.TargetLoss, seed1.PruneRepeats));
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SparseCircuits.Circuits;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Tasks;
using SparseCircuits.Training;

namespace SparseCircuits.Sweeps;

/// <summary>
/// A grid of models trained on one shared corpus, each then pruned on the same tasks at the same
/// target loss (docs/sweeps.md). Read from snake_case JSON; every field is checked once by
/// <see cref="Validate"/>, with errors that name the field.
/// </summary>
public sealed record SweepSpec
{
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;
    /// <summary>Informational (the preset name for built-in specs).</summary>
    public string Name { get; init; } = "custom";
    /// <summary>Training seed of every model that does not set its own, and the task sampling seed.</summary>
    public ulong Seed { get; init; }
    public SweepData Data { get; init; } = new();
    /// <summary>Training config fields applied to every model (after its preset, before its own <see cref="SweepModel.Training"/>).</summary>
    public JsonObject? Training { get; init; }
    public IReadOnlyList<SweepModel> Models { get; init; } = [];
    /// <summary>Built-in task names or custom task files (<c>*.jsonl</c>, relative to the spec file).</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];
    /// <summary>Task loss every circuit must reach (the paper uses 0.15).</summary>
    public double TargetLoss { get; init; } = Circuits.PruningConfig.DefaultTargetLoss;
    /// <summary>Pruning config fields (<see cref="PruningConfig"/>; its target_loss is <see cref="TargetLoss"/>).</summary>
    public JsonObject? Pruning { get; init; }
    public SweepPrompts Prompts { get; init; } = new();
    /// <summary>
    /// Independent pruning runs per task (mask-learning seeds <c>pruning.seed + 1000 r</c>, same
    /// prompts); the frontier uses the geometric mean of their edges and reports the spread of the
    /// sparse-vs-dense ratio across them.
    /// </summary>
    public int PruneRepeats { get; init; } = 1;
    /// <summary>Val tokens averaged into each model's mean-activation cache.</summary>
    public long MeansTokens { get; init; } = MeanCache.DefaultTokens;

    public const int MaxPruneRepeats = 10;

    /// <summary>The pruning config of repeat <paramref name="repeat"/> (its own mask-learning seeds).</summary>
    public PruningConfig PruningConfig(int repeat)
    {
        PruningConfig config = PruningConfig();
        return config with { Seed = config.Seed + 1000UL * (ulong)repeat };
    }

    /// <summary>The pruning config of every job.</summary>
    public PruningConfig PruningConfig() =>
        (ConfigLoader.Load(new PruningConfig(), Pruning is null ? [] : [WithLegacyNames(Pruning)], []) with { TargetLoss = TargetLoss }).Validate();

    /// <summary>Specs written before the CPU-minute budget called the number of search runs "budget".</summary>
    static JsonObject WithLegacyNames(JsonObject pruning)
    {
        if (!pruning.ContainsKey("budget") || pruning.ContainsKey("runs")) return pruning;
        var renamed = new JsonObject();
        foreach (var (key, value) in pruning) renamed[key == "budget" ? "runs" : key] = value?.DeepClone();
        return renamed;
    }

    /// <summary>The training config of <paramref name="model"/> for a tokenizer of <paramref name="vocabSize"/>.</summary>
    public TrainingConfig TrainingConfig(SweepModel model, int vocabSize)
    {
        var preset = TrainingPresets.Get(model.Preset, vocabSize) with { Seed = Seed };
        var patches = new[] { Training, model.Training }.OfType<JsonObject>();
        TrainingConfig config = ConfigLoader.Load(preset, patches, []);
        return (model.Dense ? config with { Dense = true } : config) with { Preset = model.Preset };
    }

    public TaskSuiteOptions TaskOptions() => new()
    {
        Tasks = Tasks, MaxPromptTokens = Prompts.MaxPromptTokens, TrainPairs = Prompts.TrainPairs, ValPairs = Prompts.ValPairs,
        TestPairs = Prompts.TestPairs, ReuseFinished = true,
    };

    public SweepModel Model(string name) => Models.FirstOrDefault(m => m.Name == name)
        ?? throw new SparseCircuitsException($"the sweep has no model '{name}'; it has {string.Join(", ", Models.Select(m => m.Name))}");

    /// <summary>Reads a spec file; relative task files are resolved against the file's folder.</summary>
    public static SweepSpec Load(string path)
    {
        if (!File.Exists(path)) throw new SparseCircuitsException($"sweep spec not found: {path}");
        SweepSpec spec;
        try
        {
            spec = JsonSerializer.Deserialize<SweepSpec>(File.ReadAllText(path), StrictJson) ?? throw new SparseCircuitsException($"sweep spec {path} is empty");
        }
        catch (JsonException e)
        {
            string field = e.Path?.TrimStart('$', '.') ?? "";
            string what = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "has an unknown field" : "is not valid";
            throw new SparseCircuitsException($"sweep spec {path} {what}{(field.Length > 0 ? $" at '{field}'" : "")}: {e.Message.Split(". ")[0]}");
        }
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return (spec with
        {
            Tasks = spec.Tasks?.Select(t => TaskSuiteOptions.IsFile(t) ? Path.GetFullPath(t, dir) : t).ToList() ?? [],
            Data = spec.Data is null ? null! : spec.Data with { Sources = spec.Data.Sources?.Select(s => Path.GetFullPath(s, dir)).ToList() ?? [] },
        }).Validate();
    }

    /// <summary>Returns this spec, or throws naming the first bad field.</summary>
    public SweepSpec Validate()
    {
        if (Format != CurrentFormat) throw Bad("format", $"{CurrentFormat}", Format);
        if (Data is null) throw new SparseCircuitsException("sweep spec: data is missing");
        if (Data.VocabSize < 257) throw Bad("data.vocab_size", ">= 257", Data.VocabSize);
        if (Models is null || Models.Count == 0) throw new SparseCircuitsException("sweep spec: models is empty; list at least one model");
        if (Tasks is null || Tasks.Count == 0) throw new SparseCircuitsException("sweep spec: tasks is empty; list built-in task names or *.jsonl files");
        if (!(TargetLoss > 0 && double.IsFinite(TargetLoss))) throw Bad("target_loss", "a finite number > 0", TargetLoss);
        if (MeansTokens < 1) throw Bad("means_tokens", ">= 1", MeansTokens);
        if (PruneRepeats is < 1 or > MaxPruneRepeats) throw Bad("prune_repeats", $"1..{MaxPruneRepeats}", PruneRepeats);
        if (Prompts is null) throw new SparseCircuitsException("sweep spec: prompts is missing");
        Prompts.Validate();
        Wrap("pruning", () => PruningConfig());
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Models.Count; i++)
        {
            SweepModel m = Models[i] ?? throw new SparseCircuitsException($"sweep spec: models[{i}] is null");
            if (string.IsNullOrWhiteSpace(m.Name) || m.Name.IndexOfAny([.. Path.GetInvalidFileNameChars(), ' ']) >= 0 || m.Name.StartsWith('.'))
                throw new SparseCircuitsException($"sweep spec: models[{i}].name must be a non-empty folder name without spaces (got '{m.Name}')");
            if (!names.Add(m.Name)) throw new SparseCircuitsException($"sweep spec: models[{i}].name '{m.Name}' is used twice");
            if (!TrainingPresets.Names.Contains(m.Preset))
                throw new SparseCircuitsException($"sweep spec: models[{i}].preset '{m.Preset}' is unknown; choose one of {string.Join(", ", TrainingPresets.Names)}");
            Wrap($"models[{i}] ({m.Name}) training", () => TrainingConfig(m, Data.VocabSize).Validate());
        }
        var taskNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Tasks.Count; i++)
        {
            string t = Tasks[i];
            if (TaskSuiteOptions.IsFile(t))
            {
                if (!File.Exists(t)) throw new SparseCircuitsException($"sweep spec: tasks[{i}]: task file not found: {t}");
            }
            else if (!TaskRegistry.Names.Contains(t))
                throw new SparseCircuitsException($"sweep spec: tasks[{i}] '{t}' is neither a built-in task ({string.Join(", ", TaskRegistry.Names)}) nor a .jsonl file");
            if (!taskNames.Add(TaskSuiteOptions.NameOf(t))) throw new SparseCircuitsException($"sweep spec: tasks[{i}] '{t}' is listed twice");
        }
        return this;

        static SparseCircuitsException Bad(string field, string range, object value) => new($"sweep spec: {field} must be {range} (got {value})");
    }

    static void Wrap(string where, Action check)
    {
        try { check(); }
        catch (SparseCircuitsException e) { throw new SparseCircuitsException($"sweep spec: {where}: {e.Message}"); }
    }

    static readonly JsonSerializerOptions StrictJson = new(Json.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <summary>The spec as JSON (what <c>sweep.json</c> in the sweep directory holds).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json.Options);
}

/// <summary>The corpus and tokenizer every model of the sweep shares (built once under the sweep directory).</summary>
/// <param name="Sources">Python source folders; empty = the machine's Python standard library</param>
public sealed record SweepData(IReadOnlyList<string> Sources, int VocabSize = BpeTrainer.DefaultVocabSize)
{
    public SweepData() : this([]) { }
}

/// <summary>One job of the sweep: a training preset plus config fields, sparse or dense.</summary>
public sealed record SweepModel
{
    /// <summary>Folder name of the job (jobs/NAME) and its label in the frontier.</summary>
    public string Name { get; init; } = "";
    public string Preset { get; init; } = "small";
    /// <summary>Training config fields on top of the preset and the sweep-wide <see cref="SweepSpec.Training"/>.</summary>
    public JsonObject? Training { get; init; }
    /// <summary>Dense baseline: no weight projection.</summary>
    public bool Dense { get; init; }
}

/// <summary>How task prompts are drawn for pruning: a cap on prompt length and pairs per split (built-in tasks).</summary>
public sealed record SweepPrompts
{
    /// <summary>Longest prompt kept in tokens; null = the model's context. Shorter prompts make pruning steps cheaper.</summary>
    public int? MaxPromptTokens { get; init; }
    public int TrainPairs { get; init; } = TaskSource.DefaultTrainPairs;
    public int ValPairs { get; init; } = TaskSource.DefaultValPairs;
    public int TestPairs { get; init; } = TaskSource.DefaultTestPairs;

    public void Validate()
    {
        if (MaxPromptTokens is int m && m < 2) throw new SparseCircuitsException($"sweep spec: prompts.max_prompt_tokens must be >= 2 or null (got {m})");
        if (TrainPairs < 1) throw new SparseCircuitsException($"sweep spec: prompts.train_pairs must be >= 1 (got {TrainPairs})");
        if (ValPairs < 1) throw new SparseCircuitsException($"sweep spec: prompts.val_pairs must be >= 1 (got {ValPairs})");
        if (TestPairs < 1) throw new SparseCircuitsException($"sweep spec: prompts.test_pairs must be >= 1 (got {TestPairs})");
    }
}

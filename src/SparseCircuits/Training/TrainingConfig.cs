using SparseCircuits.Core;
using SparseCircuits.Model;

namespace SparseCircuits.Training;

/// <summary>
/// Everything that decides a training run: the model, the data budget and every choice of
/// docs/method.md "Weight-sparse training". Saved as <c>config.json</c> in the run directory; every
/// field can be set from a JSON file or with <c>--set field=value</c>.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>Preset this config started from (informational).</summary>
    public string Preset { get; init; } = "custom";
    public ModelConfig Model { get; init; } = new();

    public int BatchSize { get; init; } = 16;
    /// <summary>Optimizer steps; schedules are laid out over exactly this many.</summary>
    public long Steps { get; init; } = 1000;
    public double LearningRate { get; init; } = 4e-3;
    public double WarmupFraction { get; init; } = 0.01;
    /// <summary>Fraction of training over which the L0 budget anneals from dense to the target.</summary>
    public double AnnealFraction { get; init; } = 0.5;

    /// <summary>Dense baseline: no projection, everything else the same.</summary>
    public bool Dense { get; init; }
    /// <summary>Final fraction of nonzero entries in each c_attn / c_proj / c_fc weight.</summary>
    public double WeightDensity { get; init; } = 0.1;
    /// <summary>Final fraction of nonzeros in wte, wpe and lm_head (the paper allows them denser).</summary>
    public double EmbeddingDensity { get; init; } = 0.25;
    /// <summary>j of the "minimum j alive per neuron" rule; 0 disables it.</summary>
    public int MinPerNeuron { get; init; } = WeightSparsity.DefaultMinPerNeuron;
    /// <summary>Choice: the paper sparsifies biases, the official training script keeps them dense (our default).</summary>
    public bool SparseBiases { get; init; }

    public AdamConfig Optimizer { get; init; } = new();
    public GradientNormalization GradientNormalization { get; init; } = GradientNormalization.NormalizeRms;

    /// <summary>Number format of the model's matmuls while training (docs/training.md "Matmul precision"); evaluation runs in fp32.</summary>
    public MatmulPrecision MatmulPrecision { get; init; } = MatmulPrecision.Fp32;

    /// <summary>
    /// Kernels of the linear layers (docs/method.md "Sparse-aware execution"): <c>auto</c> runs each
    /// layer sparse once its weight is sparser than the measured crossover for its width and the
    /// matmul precision, <c>dense</c> and <c>sparse</c> force one path. Same function up to float
    /// summation order. Left out of config files at <c>auto</c>, so configs and their hashes stay
    /// what they were before the field existed.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public LinearKernels Kernels { get; init; }

    /// <summary>
    /// Parts each batch is split into and run at once, one per core with one libtorch thread each
    /// (<see cref="BatchStreams"/>); 1 = the whole batch on all threads.
    /// </summary>
    public int Streams { get; init; } = 1;

    /// <summary>
    /// A checkpoint directory whose weights a new run starts from instead of a random
    /// initialisation (<see cref="InitialWeights"/>; same model settings required); null: random from
    /// the seed. Left out of config files when null. With a sparse start, <c>anneal_fraction = 0</c>
    /// keeps the target density from the first step.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? InitFrom { get; init; }

    /// <summary>
    /// Share of training windows that are a span followed by its own copy (the induction
    /// curriculum, docs/training.md; <see cref="SparseCircuits.Data.RandomWindowSampler"/>); 0 = plain
    /// windows. Left out of config files at 0, so configs and their hashes stay what they were.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double RepeatFraction { get; init; }

    public ulong Seed { get; init; }
    public int LogInterval { get; init; } = 10;
    public int EvalInterval { get; init; } = 100;
    /// <summary>Validation tokens per evaluation (the same windows each time).</summary>
    public long EvalTokens { get; init; } = 32_768;
    public int CheckpointInterval { get; init; } = 100;
    public int KeepLastCheckpoints { get; init; } = 3;
    /// <summary>
    /// Checkpoints at multiples of this step survive pruning too (0 = none): a learning curve, or
    /// circuits across training, from one run. Left out of config files at 0.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int KeepCheckpointsEvery { get; init; }

    public ScheduleConfig Schedule() =>
        new ScheduleConfig(Steps, LearningRate, Dense ? 1.0 : WeightDensity, AnnealFraction, WarmupFraction).Validate();

    /// <summary>Returns this config, or throws naming the first bad field and its allowed range.</summary>
    public TrainingConfig Validate()
    {
        if (Model is null) throw new SparseCircuitsException("training config: model is missing");
        Model.Validate();
        if (BatchSize < 1) throw Bad("batch_size", ">= 1", BatchSize);
        if (Steps < 1) throw Bad("steps", ">= 1", Steps);
        if (!(WeightDensity > 0 && WeightDensity <= 1)) throw Bad("weight_density", "in (0, 1]", WeightDensity);
        if (!(EmbeddingDensity > 0 && EmbeddingDensity <= 1)) throw Bad("embedding_density", "in (0, 1]", EmbeddingDensity);
        if (MinPerNeuron < 0) throw Bad("min_per_neuron", ">= 0", MinPerNeuron);
        if (!(RepeatFraction >= 0 && RepeatFraction <= 1)) throw Bad("repeat_fraction", "in [0, 1]", RepeatFraction);
        if (LogInterval < 1) throw Bad("log_interval", ">= 1", LogInterval);
        if (EvalInterval < 1) throw Bad("eval_interval", ">= 1", EvalInterval);
        if (EvalTokens < 1) throw Bad("eval_tokens", ">= 1", EvalTokens);
        if (CheckpointInterval < 1) throw Bad("checkpoint_interval", ">= 1", CheckpointInterval);
        if (KeepLastCheckpoints < 1) throw Bad("keep_last_checkpoints", ">= 1", KeepLastCheckpoints);
        if (KeepCheckpointsEvery < 0) throw Bad("keep_checkpoints_every", ">= 0 (0 = none)", KeepCheckpointsEvery);
        if (Streams < 1 || BatchSize % Streams != 0) throw Bad("streams", $">= 1 and a divisor of batch_size {BatchSize}", Streams);
        if (!Enum.IsDefined(MatmulPrecision)) throw Bad("matmul_precision", "fp32 or bf16", MatmulPrecision);
        if (!Enum.IsDefined(Kernels)) throw Bad("kernels", "auto, dense or sparse", Kernels);
        if (!Enum.IsDefined(GradientNormalization)) throw Bad("gradient_normalization", "none, normalize_rms or clip_rms", GradientNormalization);
        if (InitFrom is not null && !Directory.Exists(InitFrom)) throw new SparseCircuitsException($"training config: init_from {InitFrom} is not a directory");
        if (Optimizer is null) throw new SparseCircuitsException("training config: optimizer is missing");
        Optimizer.Validate();
        Schedule();
        return this;

        static SparseCircuitsException Bad(string field, string range, object value) =>
            new($"training config: {field} must be {range} (got {value})");
    }

    [System.Text.Json.Serialization.JsonIgnore] public long TokensPerStep => (long)BatchSize * Model.NCtx;
}

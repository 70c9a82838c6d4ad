using SparseCircuits.Core;

namespace SparseCircuits.Circuits;

/// <summary>How nodes are ranked before the discretisation.</summary>
public enum PruningMethod
{
    /// <summary>Learned node masks (the paper's method).</summary>
    LearnedMask,
    /// <summary>Baseline: top nodes by |gradient x (activation - mean)| summed over training prompts.</summary>
    Attribution,
}

/// <summary>
/// Pruning hyperparameters. Defaults are the centres of the paper's search (docs/method.md, "Pruning to
/// a circuit"): k_coef 1e-4 (the adaptive penalty's start), lr 3e-3, weight decay 1e-3, beta2 0.95,
/// warmup 5% then linear decay, temperature 1, tau init N(0.1, 0.01), target task loss 0.15; and
/// from the search study of docs/circuits.md: one run of 1,200 steps of 64 prompts (32 pairs), the
/// adaptive penalty at setpoint 0.5, then the refinement.
/// </summary>
public sealed record PruningConfig
{
    public const double DefaultTargetLoss = Tasks.TaskScore.SolvedLoss;
    public const int DefaultSteps = 1200, DefaultBatchPrompts = 64, DefaultRuns = 1, BudgetRunLimit = 27;
    public const double DefaultKCoefSetpoint = 0.5;
    public const double DefaultKCoef = 1e-4, DefaultLearningRate = 3e-3;

    public double TargetLoss { get; init; } = DefaultTargetLoss;
    public PruningMethod Method { get; init; } = PruningMethod.LearnedMask;
    public AblationKind Ablation { get; init; } = AblationKind.Mean;
    /// <summary>Mask-learning steps per search run.</summary>
    public int Steps { get; init; } = DefaultSteps;
    /// <summary>Prompts per step (32 contrast pairs).</summary>
    public int BatchPrompts { get; init; } = DefaultBatchPrompts;
    /// <summary>
    /// Each step's prompts run as this many forward/backward passes over prompts of similar
    /// length (same gradient, less padding); 1 = one padded batch.
    /// </summary>
    public int LengthChunks { get; init; } = 4;
    /// <summary>Centre of the search for the penalty per open node.</summary>
    public double KCoef { get; init; } = DefaultKCoef;
    /// <summary>Centre of the search for the learning rate.</summary>
    public double LearningRate { get; init; } = DefaultLearningRate;
    public double WeightDecay { get; init; } = 1e-3;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double AdamEps { get; init; } = 1e-8;
    public double WarmupFraction { get; init; } = 0.05;
    /// <summary>Total gradient L2 norm is clipped to this before each step.</summary>
    public double GradClip { get; init; } = 1.0;
    public double Temperature { get; init; } = 1.0;
    /// <summary>When set, the temperature anneals geometrically to this value over the steps (null: constant).</summary>
    public double? TemperatureEnd { get; init; }
    /// <summary>
    /// When set, k_coef adapts during mask learning so the hard mask's training task loss settles
    /// at this fraction of the target loss (k_coef is then only the starting value); null: fixed.
    /// </summary>
    public double? KCoefSetpoint { get; init; } = DefaultKCoefSetpoint;
    /// <summary>Fraction of the steps over which k_coef ramps up linearly from 0 (0: constant from the start).</summary>
    public double KCoefRamp { get; init; }
    public double InitMean { get; init; } = 0.1;
    public double InitStd { get; init; } = 0.01;
    /// <summary>One mask entry for q channel j and k channel j of the same layer (they open and close together).</summary>
    public bool TieQk { get; init; }
    /// <summary>
    /// Search runs (k_coef / lr / seed settings around the centres), the smallest circuit wins.
    /// Null: one run, or with a CPU budget as many as fit (at most <see cref="BudgetRunLimit"/>).
    /// </summary>
    public int? Runs { get; init; }

    /// <summary>The most mask runs this config allows.</summary>
    public int MaxRuns => Runs ?? (BudgetMinutes is null ? DefaultRuns : BudgetRunLimit);
    /// <summary>
    /// CPU minutes (all threads of this process) the whole search may use: mask runs start while
    /// another one fits in its share, the refinement stops when the budget is spent. Null: no limit
    /// (<see cref="MaxRuns"/> runs and a refinement of up to <see cref="RefineEvaluations"/> evaluations).
    /// </summary>
    public double? BudgetMinutes { get; init; }
    public ulong Seed { get; init; }
    /// <summary>Fit a scale and shift of the final logits when scoring circuits (off by default; always reported).</summary>
    public bool Calibrate { get; init; }
    /// <summary>
    /// When the validation prompts reach the target with every node mean-ablated, return the empty
    /// circuit without a mask search (the pipeline turns it on: trivial tasks cost minutes of search
    /// otherwise). Off by default, so an explicit prune always searches; left out of files when off.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool SkipSearchWhenEmptyReaches { get; init; }
    public const int DefaultRefineEvaluations = 400;
    /// <summary>
    /// The most validation evaluations spent shrinking the chosen cut by backward elimination
    /// (<see cref="CircuitRefinement"/>; every accepted state still reaches the target); 0: keep
    /// the cut. A count rather than a time, so the circuit does not depend on the machine.
    /// </summary>
    public int RefineEvaluations { get; init; } = DefaultRefineEvaluations;
    /// <summary>Random node sets of the circuit's size used as controls.</summary>
    public int ControlSets { get; init; } = 20;

    public PruningConfig Validate()
    {
        if (!(TargetLoss > 0 && double.IsFinite(TargetLoss))) Fail("target_loss", "a finite number > 0", TargetLoss);
        if (!Enum.IsDefined(Method)) Fail("method", "learned_mask or attribution", Method);
        if (!Enum.IsDefined(Ablation)) Fail("ablation", "mean or zero", Ablation);
        if (Steps < 1) Fail("steps", ">= 1", Steps);
        if (BatchPrompts < 1) Fail("batch_prompts", ">= 1", BatchPrompts);
        if (LengthChunks < 1) Fail("length_chunks", ">= 1", LengthChunks);
        if (!(KCoef >= 0 && double.IsFinite(KCoef))) Fail("k_coef", "a finite number >= 0", KCoef);
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) Fail("learning_rate", "a finite number > 0", LearningRate);
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay))) Fail("weight_decay", "a finite number >= 0", WeightDecay);
        if (!(Beta1 >= 0 && Beta1 < 1)) Fail("beta1", "in [0, 1)", Beta1);
        if (!(Beta2 >= 0 && Beta2 < 1)) Fail("beta2", "in [0, 1)", Beta2);
        if (!(AdamEps > 0 && double.IsFinite(AdamEps))) Fail("adam_eps", "a finite number > 0", AdamEps);
        if (!(WarmupFraction >= 0 && WarmupFraction < 1)) Fail("warmup_fraction", "in [0, 1)", WarmupFraction);
        if (!(GradClip > 0)) Fail("grad_clip", "> 0", GradClip);
        if (!(Temperature > 0 && double.IsFinite(Temperature))) Fail("temperature", "a finite number > 0", Temperature);
        if (TemperatureEnd is { } end && !(end > 0 && double.IsFinite(end))) Fail("temperature_end", "a finite number > 0 or null", end);
        if (!(KCoefRamp >= 0 && KCoefRamp < 1)) Fail("k_coef_ramp", "in [0, 1)", KCoefRamp);
        if (KCoefSetpoint is { } setpoint && !(setpoint > 0 && setpoint <= 1)) Fail("k_coef_setpoint", "in (0, 1] or null", setpoint);
        if (!double.IsFinite(InitMean)) Fail("init_mean", "finite", InitMean);
        if (!(InitStd >= 0 && double.IsFinite(InitStd))) Fail("init_std", "a finite number >= 0", InitStd);
        if (Runs is < 1) Fail("runs", ">= 1 or null", Runs);
        if (RefineEvaluations < 0) Fail("refine_evaluations", ">= 0", RefineEvaluations);
        if (BudgetMinutes is { } minutes && !(minutes > 0 && double.IsFinite(minutes))) Fail("budget_minutes", "a finite number > 0 or null", minutes);
        if (ControlSets < 0) Fail("control_sets", ">= 0", ControlSets);
        return this;

        static void Fail(string field, string range, object value) =>
            throw new SparseCircuitsException($"pruning config: {field} must be {range}; got {value}");
    }

    /// <summary>
    /// The <paramref name="run"/>-th setting of the built-in search: the centres first, then
    /// k_coef x3 and /3, lr x3 and /3, then wider and combined moves; each run has its own seed.
    /// </summary>
    public SearchSetting Setting(int run)
    {
        (double k, double lr)[] moves =
        [
            (1, 1), (3, 1), (1 / 3.0, 1), (1, 3), (1, 1 / 3.0), (10, 1), (1 / 10.0, 1), (3, 3), (1 / 3.0, 1 / 3.0),
        ];
        var (kFactor, lrFactor) = moves[run % moves.Length];
        return new SearchSetting(KCoef * kFactor, LearningRate * lrFactor, Seed + (ulong)run);
    }
}

/// <summary>One mask-learning run of the search.</summary>
public sealed record SearchSetting(double KCoef, double LearningRate, ulong Seed);

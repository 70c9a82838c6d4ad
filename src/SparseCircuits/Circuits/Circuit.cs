using SparseCircuits.Tasks;
namespace SparseCircuits.Circuits;

/// <summary>A kept node as stored in circuit.json (<paramref name="Score"/>: tau or attribution score of its unit).</summary>
public sealed record CircuitNode(string Id, int Layer, string Location, int Index, int? Head, double Mean, double Score);

/// <summary>The model the circuit was found in: shape and node count next to the checkpoint it came from.</summary>
public sealed record CircuitModel(ModelReference? Source, int NLayer, int DModel, int NHead, int DHead, int DMlp, int TotalNodes);

/// <summary>The task and its split sizes (prompts).</summary>
public sealed record CircuitTask(string Name, string? Source, int TrainPrompts, int ValPrompts, int TestPrompts);

/// <summary>One run of the hyperparameter search and the circuit it gave on the validation split.</summary>
public sealed record SearchRun(SearchSetting Setting, int Nodes, double ValLoss, double LastTrainTaskLoss, int OpenNodesAtEnd, double Seconds);

/// <summary>
/// Whether the cut used scale+shift calibration (<paramref name="Enabled"/>), and the scale and
/// shift fitted on val to the final circuit (fitted and reported either way; files from before
/// session 7 hold 1 and 0 when off).
/// </summary>
public sealed record CalibrationInfo(bool Enabled, double Scale, double Shift);

/// <summary>
/// A circuit and everything measured about it: the content of <c>circuit.json</c>
/// (docs/circuits.md; read and written by <see cref="CircuitFile"/>).
/// </summary>
public sealed record Circuit
{
    public const string KindName = "sparse-circuits-circuit";
    /// <summary>Format 2: <see cref="EdgeCount"/> counts the paper's edges (nonzero weights); format 1 counted every listed edge.</summary>
    public const int CurrentFormat = 2;
    public const string LossDefinitionText =
        "mean over prompts of binary cross-entropy of softmax over {correct, wrong} at the last prompt position " +
        "(the official code sums the two prompts of a pair: 2x this)";

    public int Format { get; init; } = CurrentFormat;
    public string Kind { get; init; } = KindName;
    public required CircuitModel Model { get; init; }
    public required CircuitTask Task { get; init; }
    public required double TargetLoss { get; init; }
    public string LossDefinition { get; init; } = LossDefinitionText;
    public required PruningMethod Method { get; init; }
    public required AblationKind Ablation { get; init; }
    public required PruningConfig Hyperparameters { get; init; }
    /// <summary>The search run whose circuit was kept (null for attribution).</summary>
    public SearchSetting? Chosen { get; init; }
    public IReadOnlyList<SearchRun> Search { get; init; } = [];
    public required CalibrationInfo Calibration { get; init; }
    public required int NodeCount { get; init; }
    /// <summary>The paper's edges: nonzero weights between kept nodes (<see cref="CircuitGraph.PaperEdgeCount"/>).</summary>
    public required int EdgeCount { get; init; }
    /// <summary>Listed edges by kind: weight (= <see cref="EdgeCount"/>), attention_score, residual.</summary>
    public required IReadOnlyDictionary<string, int> EdgeCountsByKind { get; init; }
    /// <summary>Full model and circuit on the validation split (the split the cut was chosen on).</summary>
    public required TaskScore ValFullModel { get; init; }
    public required TaskScore ValCircuit { get; init; }
    public required IReadOnlyList<CircuitNode> Nodes { get; init; }
    public required IReadOnlyList<CircuitEdge> Edges { get; init; }
    /// <summary>Loss (and edges) of every evaluated prefix of the chosen ranking, on val.</summary>
    public required IReadOnlyList<LossCurvePoint> LossCurve { get; init; }
    /// <summary>The backward elimination after the cut (null when off, and in older files).</summary>
    public RefinementInfo? Refinement { get; init; }
    public required CircuitValidationResult Validation { get; init; }
    public double Seconds { get; init; }
    /// <summary>CPU time of the whole prune, all threads (0 in files written before it was recorded).</summary>
    public double CpuSeconds { get; init; }
}

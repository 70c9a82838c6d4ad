using SparseCircuits.Circuits;
namespace SparseCircuits.Reports;

// Everything the HTML viewer shows, precomputed by `circuits report` and embedded in the page as
// one JSON object (snake_case, Core.Json.Compact). The page only draws: no numbers are computed in
// JavaScript except the threshold filter, zoom and pan. Format bumps when a field changes meaning.

/// <summary>The whole report: one model, its task table, its circuits and optional frontier page.</summary>
public sealed record ReportData
{
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;
    public required string Title { get; init; }
    /// <summary>ISO-8601 UTC time the report was built.</summary>
    public required string GeneratedAt { get; init; }
    public required string ToolVersion { get; init; }
    public required ModelCard Model { get; init; }
    /// <summary>From metrics.jsonl: every logged step (train loss) and the validation points.</summary>
    public required IReadOnlyList<TrainingPoint> TrainingCurve { get; init; }
    /// <summary>The task table (summary.json of the circuits directory plus circuits found beside it); empty without circuits.</summary>
    public required IReadOnlyList<TaskRow> Tasks { get; init; }
    public required IReadOnlyList<CircuitView> Circuits { get; init; }
    /// <summary>The node locations' site names in forward order; the viewer colours nodes by position in this list.</summary>
    public IReadOnlyList<string> Locations { get; init; } = NodeLocations.All.Select(l => l.Site()).ToList();
    /// <summary>Per node id (e.g. <c>2.attn.q[17]</c>) the pretraining-text profile, shared by every circuit that keeps the node.</summary>
    public required IReadOnlyDictionary<string, NodeProfile> NodeProfiles { get; init; }
    public required EmbeddingView Embeddings { get; init; }
    /// <summary>Sweep comparison (issue 7), absent for a single model.</summary>
    public FrontierPage? Frontier { get; init; }
    /// <summary>Bridges to a dense model (docs/bridges.md), present when the run was trained with them.</summary>
    public BridgesPage? Bridges { get; init; }
}

/// <summary>Model card: shape, size, sparsity, loss and the flattened training config for display.</summary>
public sealed record ModelCard(
    string Name,
    string RunDir,
    long Step,
    int NLayer,
    int DModel,
    int NHead,
    int DHead,
    int DMlp,
    int NCtx,
    int VocabSize,
    long Parameters,
    long Nonzeros,
    double Density,
    bool Dense,
    double? ValLoss,
    double? UnigramValLoss,
    long TrainTokens,
    IReadOnlyList<KeyValuePair<string, string>> Config);

public sealed record TrainingPoint(long Step, long Tokens, double TrainLoss, double? ValLoss);

/// <summary>
/// One line of the task table. <paramref name="CircuitId"/> links to <see cref="CircuitView.Id"/> (null: no circuit, see <paramref name="Reason"/>);
/// <paramref name="TargetLoss"/> is the target the task was pruned at (above the summary's when relaxed).
/// </summary>
public sealed record TaskRow(
    string Task,
    bool Pruned,
    int? Nodes,
    int? Edges,
    double? FullModelLoss,
    double? SufficiencyLoss,
    double? NecessityLoss,
    double? ControlLoss,
    string? CircuitId,
    string? Reason,
    double? TargetLoss = null);

/// <summary>One circuit as the circuit page draws it.</summary>
public sealed record CircuitView
{
    /// <summary>Stable id used in links (<c>#/circuit/ID</c>): the circuit's directory name.</summary>
    public required string Id { get; init; }
    public required string Task { get; init; }
    public required string? TaskSource { get; init; }
    public required double TargetLoss { get; init; }
    public required string Method { get; init; }
    public required int NodeCount { get; init; }
    public required int EdgeCount { get; init; }
    public required int TotalNodes { get; init; }
    /// <summary>Test split: full model, circuit (sufficiency), circuit removed (necessity), random controls, zero ablation.</summary>
    public required ValidationView Validation { get; init; }
    public required IReadOnlyList<LossCurveView> LossCurve { get; init; }
    /// <summary>Per layer: kept nodes and the task-loss change when that layer's circuit nodes are also mean-ablated.</summary>
    public required IReadOnlyList<LayerSummary> Layers { get; init; }
    public required IReadOnlyList<NodeView> Nodes { get; init; }
    public required IReadOnlyList<EdgeView> Edges { get; init; }
    /// <summary>Rows of the layout (top to bottom), so the page can label them.</summary>
    public required IReadOnlyList<LayoutRow> Rows { get; init; }
    /// <summary>Largest |weight| over the edges (the threshold slider's range).</summary>
    public required double MaxAbsWeight { get; init; }
    /// <summary>Names of the two prompt classes: [0] the prompts whose answer is the pair's first token, [1] the others.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }
    /// <summary>Test prompts the per-node and per-layer ablation losses were measured on (the first ones of the test split; 0 when the task could not be rebuilt).</summary>
    public int AblationPrompts { get; init; }
    /// <summary>Task loss of the circuit itself on those prompts: the reference for <see cref="NodeView.AblatedLoss"/>; null when the task could not be rebuilt.</summary>
    public double? AblationReferenceLoss { get; init; }
    /// <summary>What the page should say about missing or approximate parts (e.g. the task could not be rebuilt).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

public sealed record ValidationView(
    double FullModelLoss,
    double FullModelAccuracy,
    double SufficiencyLoss,
    double SufficiencyAccuracy,
    double NecessityLoss,
    double NecessityAccuracy,
    double? ControlLossMean,
    double? ControlLossStd,
    double ZeroSufficiencyLoss,
    double ZeroNecessityLoss,
    int TestPrompts);

/// <summary>
/// A point of the circuit's loss-vs-size curves: a prefix of the ranking (<paramref name="Stage"/>
/// <c>prefix</c>) or a smaller circuit the refinement accepted (<c>refined</c>); edges are null for
/// circuits from before edges were stored.
/// </summary>
public sealed record LossCurveView(int Nodes, double Loss, double Accuracy, int? Edges = null, string Stage = LossCurveView.Prefix)
{
    public const string Prefix = "prefix", Refined = "refined";
}

/// <summary><paramref name="AblationDelta"/> is null when the task could not be rebuilt.</summary>
public sealed record LayerSummary(int Layer, int Nodes, double? AblationDelta);

/// <summary>A horizontal row of the circuit layout: all nodes of one layer and location group (e.g. layer 1, "attn q/k/v").</summary>
public sealed record LayoutRow(int Layer, string Label, double Y);

/// <summary>
/// A kept node with its layout position (abstract units: x in [0, 1] across the row, y = its row's
/// <see cref="LayoutRow.Y"/>) and what the node panel shows about it.
/// </summary>
public sealed record NodeView
{
    public required string Id { get; init; }
    public required int Layer { get; init; }
    /// <summary>Official site name, e.g. <c>attn.q</c>.</summary>
    public required string Location { get; init; }
    public required int Index { get; init; }
    public required int? Head { get; init; }
    public required double X { get; init; }
    public required double Y { get; init; }
    public required double Mean { get; init; }
    /// <summary>tau (learned masks) or attribution score.</summary>
    public required double Score { get; init; }
    /// <summary>Task loss (test split) of the circuit with this node also mean-ablated; null when the task could not be rebuilt.</summary>
    public required double? AblatedLoss { get; init; }
    /// <summary>Activation of the node on task prompts of each class; null when the task could not be rebuilt.</summary>
    public required TaskActivations? TaskActivations { get; init; }
    /// <summary>For q/k nodes: the head's attention pattern rebuilt from the circuit's kept q/k channels; null elsewhere.</summary>
    public AttentionView? Attention { get; init; }
}

/// <summary><paramref name="Weight"/>: the weight (or norm weight / attention scale) of the edge; its sign colours it.</summary>
public sealed record EdgeView(string Source, string Target, string Kind, double Weight);

/// <summary>
/// The node on contrast pairs: per pair both prompts token by token (the two classes), and the mean
/// activation at the last prompt position per class and their difference (class 0 - class 1).
/// </summary>
public sealed record TaskActivations(
    IReadOnlyList<PairActivations> Pairs,
    double MeanLastClass0,
    double MeanLastClass1,
    double MeanLastDifference);

/// <summary>One contrast pair; <paramref name="Difference"/> is per-token class0 - class1 when both prompts have the same length, else null.</summary>
public sealed record PairActivations(ActivationText Class0, ActivationText Class1, IReadOnlyList<float>? Difference);

/// <summary>Tokens (decoded text of each token) with the node's activation at each.</summary>
public sealed record ActivationText(IReadOnlyList<string> Tokens, IReadOnlyList<float> Activations);

/// <summary>
/// Attention of the node's head over the last <c>Tokens.Count</c> tokens of one task prompt
/// (rows: query position, columns: key position; causal, rows sum to 1 over the visible keys):
/// <paramref name="Kept"/> from the circuit's kept q/k channels of the head only, <paramref name="Full"/> from all channels.
/// </summary>
public sealed record AttentionView(IReadOnlyList<string> Tokens, IReadOnlyList<IReadOnlyList<float>> Kept, IReadOnlyList<IReadOnlyList<float>> Full,
    IReadOnlyList<int> KeptChannels);

/// <summary>
/// A node on pretraining text (the validation split): activation quantiles and snippets from the
/// top and bottom 0.1% / 1% / 10% / 50% of its activations.
/// </summary>
public sealed record NodeProfile(
    long TokensSeen,
    double Min,
    double Max,
    double MeanActivation,
    IReadOnlyList<QuantileValue> Quantiles,
    IReadOnlyList<SnippetGroup> Snippets);

public sealed record QuantileValue(double Quantile, double Value);

/// <summary>
/// Snippets whose focus token's activation lies in one tail bucket: <paramref name="Label"/> like
/// "top 0.1%" (activation at or above that quantile) or "bottom 10%".
/// </summary>
public sealed record SnippetGroup(string Label, bool Top, double Fraction, double Threshold, IReadOnlyList<Snippet> Snippets);

/// <summary>A window of text; <paramref name="Focus"/> is the index of the token the activation was taken at.</summary>
public sealed record Snippet(IReadOnlyList<string> Tokens, IReadOnlyList<float> Activations, int Focus);

/// <summary>Top and bottom tokens per residual channel of <c>wte</c> (what writes the channel) and <c>lm_head</c> (what it promotes).</summary>
public sealed record EmbeddingView(IReadOnlyList<EmbeddingChannel> Channels, int TokensPerSide);

/// <summary><paramref name="UsedBy"/>: ids of circuits that keep a node on this residual channel.</summary>
public sealed record EmbeddingChannel(int Channel, IReadOnlyList<TokenWeight> WteTop, IReadOnlyList<TokenWeight> WteBottom,
    IReadOnlyList<TokenWeight> LmHeadTop, IReadOnlyList<TokenWeight> LmHeadBottom, IReadOnlyList<string> UsedBy);

public sealed record TokenWeight(string Token, double Weight);

/// <summary>The sweep page: plots as inline SVG, the per-model table, and the headline comparison in words.</summary>
public sealed record FrontierPage(string Summary, IReadOnlyList<ReportFigure> Figures, IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>The bridges page: a summary in words, the per-site quality table, steering plots as inline SVG.</summary>
public sealed record BridgesPage(string Summary, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows,
    IReadOnlyList<ReportFigure> Figures);

/// <summary>A figure drawn outside the page (e.g. by ScottPlot) and inlined as SVG markup.</summary>
public sealed record ReportFigure(string Title, string Svg, string Caption);

using SparseCircuits.Reports;

namespace SparseCircuits.Tests.Reports;

/// <summary>
/// Report data for the viewer tests, built by hand with the shape a real report has (a two-layer
/// model, one pruned and one unpruned task, a circuit over every node location). A report built
/// from a tiny trained model can replace <see cref="Synthetic"/> without changing the tests.
/// </summary>
public static class ReportFixtures
{
    public const string PrunedTask = "bracket_counting";
    public const string UnprunedTask = "single_double_quote";
    public const string CircuitId = "bracket_counting";
    /// <summary>A node of the synthetic circuit with incoming and outgoing edges, a profile, and attention.</summary>
    public const string QueryNode = "1.attn.q[3]";
    /// <summary>A node of the synthetic circuit without a pretraining profile.</summary>
    public const string NodeWithoutProfile = "0.mlp.act_in[12]";

    static readonly string[][] CodeLines =
    [
        ["def", " count", "(", "xs", "):", "\n", "    ", "return", " len", "(", "xs", ")"],
        ["if", " x", " <", " y", ":", "\n", "        ", "print", "(", "\"", "</", "script", ">\"", ")"],
        ["for", " i", " in", " range", "(", "n", "):", "\n", "    ", "total", " +=", " [", "i", "]"],
        ["result", " =", " {", "'", "a", "':", " [", "1", ",", " 2", "]}", "\n"],
        ["    ", "with", " open", "(", "path", ")", " as", " f", ":", "\n", "\t", "data"],
    ];

    public static ReportData Synthetic()
    {
        var rng = new Random(7);
        var nodes = SyntheticNodes(rng);
        var edges = SyntheticEdges();
        var circuit = new CircuitView
        {
            Id = CircuitId,
            Task = PrunedTask,
            TaskSource = "built-in",
            TargetLoss = 0.15,
            Method = "learned_masks",
            NodeCount = nodes.Count,
            EdgeCount = edges.Count(e => e.Kind == "weight"), // the paper's count
            TotalNodes = 2 * (64 + 3 * 64 + 64 + 64 + 256 + 64),
            Validation = new ValidationView(0.0412, 0.994, 0.1387, 0.961, 2.413, 0.371, 2.204, 0.318, 0.2251, 3.108, 512),
            LossCurve = [new(4, 0.693, 0.5, 3), new(8, 0.512, 0.71, 9), new(13, 0.1387, 0.961, 21), new(32, 0.0911, 0.98, 70), new(128, 0.0507, 0.99, 400),
                new(1024, 0.0421, 0.994, 5000), new(11, 0.141, 0.96, 16, LossCurveView.Refined), new(10, 0.1465, 0.955, 14, LossCurveView.Refined)],
            Layers = [new(0, 8, 1.274), new(1, 5, 0.866)],
            Nodes = nodes,
            Edges = edges,
            Rows =
            [
                new(0, "L0 attn act_in", 0), new(0, "L0 attn q/k/v", 1), new(0, "L0 attn resid_delta", 2),
                new(0, "L0 mlp act_in", 3), new(0, "L0 mlp post_act", 4),
                new(1, "L1 attn q/k/v", 5), new(1, "L1 mlp post_act", 6), new(1, "L1 mlp resid_delta", 7),
            ],
            MaxAbsWeight = edges.Max(e => Math.Abs(e.Weight)),
            ClassNames = ["]", "]]"],
        };
        return new ReportData
        {
            Title = "sparse-tiny · circuits report",
            GeneratedAt = "2025-11-20T09:30:00Z",
            ToolVersion = "sparse-circuits 0.1.0",
            Model = new ModelCard("sparse-tiny", "runs/sparse-tiny", 2000, 2, 64, 4, 16, 256, 64, 2048,
                Parameters: 364_544, Nonzeros: 18_227, Density: 0.05, Dense: false, ValLoss: 3.184, UnigramValLoss: 6.021,
                TrainTokens: 8_192_000,
                Config:
                [
                    new("model.n_layer", "2"), new("model.d_model", "64"), new("model.n_head", "4"), new("weight_density", "0.05"),
                    new("activation_density", "0.25"), new("lr", "0.01"), new("batch_size", "64"), new("steps", "2000"),
                ]),
            TrainingCurve = Enumerable.Range(1, 200).Select(i =>
            {
                long step = i * 10;
                double train = 3.05 + 4.6 * Math.Exp(-step / 260.0) + 0.08 * (rng.NextDouble() - 0.5);
                double? val = step % 200 == 0 ? 3.1 + 4.5 * Math.Exp(-step / 260.0) : null;
                return new TrainingPoint(step, step * 4096, train, val);
            }).ToList(),
            Tasks =
            [
                new(PrunedTask, true, nodes.Count, edges.Count, 0.0412, 0.1387, 2.413, 2.204, CircuitId, null),
                new(UnprunedTask, false, null, null, 0.913, null, null, null, null, "full model loss 0.913 is above the target 0.15"),
            ],
            Circuits = [circuit],
            NodeProfiles = nodes.Where(n => n.Id != NodeWithoutProfile).ToDictionary(n => n.Id, n => Profile(rng, n.Id)),
            Embeddings = Embeddings(rng, nodes),
            Frontier = new FrontierPage(
                "At equal loss the sparser model's circuits are 4.1x smaller (median over 2 tasks).",
                [new ReportFigure("Circuit size against loss",
                    """<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160" viewBox="0 0 320 160"><rect width="320" height="160" fill="#fff"/><polyline points="20,140 100,90 180,60 300,40" fill="none" stroke="#0969da" stroke-width="2"/><text x="24" y="20" font-size="12">nodes vs loss</text></svg>""",
                    "Each point is one model of the sweep.")],
                ["model", "density", "val loss", "median circuit nodes"],
                [["dense", "1", "2.91", "212"], ["sparse-tiny", "0.05", "3.18", "52"]]),
        };
    }

    static List<NodeView> SyntheticNodes(Random rng)
    {
        (string Location, int Layer, int Index, int? Head, double X, double Y)[] spec =
        [
            ("attn.act_in", 0, 5, null, 0.3, 0), ("attn.act_in", 0, 12, null, 0.7, 0),
            ("attn.q", 0, 17, 1, 0.2, 1), ("attn.k", 0, 20, 1, 0.26, 1), ("attn.v", 0, 33, 2, 0.62, 1),
            ("attn.resid_delta", 0, 5, null, 0.4, 2),
            ("mlp.act_in", 0, 12, null, 0.55, 3),
            ("mlp.post_act", 0, 101, null, 0.35, 4), ("mlp.post_act", 0, 7, null, 0.75, 4),
            ("attn.q", 1, 3, 0, 0.15, 5), ("attn.k", 1, 9, 0, 0.21, 5), ("attn.v", 1, 40, 2, 0.6, 5),
            ("mlp.post_act", 1, 55, null, 0.5, 6),
            ("mlp.resid_delta", 1, 12, null, 0.5, 7),
        ];
        return spec.Select(s =>
        {
            string id = $"{s.Layer}.{s.Location}[{s.Index}]";
            bool qk = s.Location is "attn.q" or "attn.k";
            return new NodeView
            {
                Id = id, Layer = s.Layer, Location = s.Location, Index = s.Index, Head = s.Head, X = s.X, Y = s.Y,
                Mean = Math.Round(rng.NextDouble() - 0.3, 4),
                Score = Math.Round(0.5 + rng.NextDouble() * 2, 3),
                AblatedLoss = Math.Round(0.14 + rng.NextDouble() * 1.5, 4),
                TaskActivations = TaskActivations(rng),
                Attention = qk ? Attention(rng) : null,
            };
        }).ToList();
    }

    static List<EdgeView> SyntheticEdges() =>
    [
        new("0.attn.act_in[5]", "0.attn.q[17]", "weight", 0.82), new("0.attn.act_in[5]", "0.attn.k[20]", "weight", -0.41),
        new("0.attn.act_in[12]", "0.attn.v[33]", "weight", 0.27), new("0.attn.act_in[12]", "0.attn.k[20]", "weight", 0.05),
        new("0.attn.q[17]", "0.attn.k[20]", "attention", 0.25), new("0.attn.v[33]", "0.attn.resid_delta[5]", "weight", -1.12),
        new("0.attn.resid_delta[5]", "0.mlp.act_in[12]", "norm", 0.91), new("0.mlp.act_in[12]", "0.mlp.post_act[101]", "weight", 0.66),
        new("0.mlp.act_in[12]", "0.mlp.post_act[7]", "weight", -0.18), new("0.mlp.post_act[101]", "1.attn.q[3]", "weight", 0.47),
        new("0.mlp.post_act[7]", "1.attn.k[9]", "weight", -0.73), new("0.attn.resid_delta[5]", "1.attn.v[40]", "weight", 0.09),
        new("1.attn.q[3]", "1.attn.k[9]", "attention", 0.25), new("1.attn.v[40]", "1.mlp.post_act[55]", "weight", 1.35),
        new("1.attn.q[3]", "1.mlp.post_act[55]", "weight", -0.12), new("1.mlp.post_act[55]", "1.mlp.resid_delta[12]", "weight", 0.58),
        new("0.mlp.post_act[101]", "1.mlp.resid_delta[12]", "weight", -0.033),
    ];

    static TaskActivations TaskActivations(Random rng)
    {
        string[] a0 = ["x", " =", " [", "[", "1", ",", " 2", "]"], a1 = ["x", " =", " [", "[", "[", "1", "]", "]"];
        string[] b0 = ["f", "(", "[", "a", "]"], b1 = ["f", "(", "[", "[", "a", "]", "]"];
        float[] Acts(int n) => Enumerable.Range(0, n).Select(_ => (float)Math.Round(rng.NextDouble() * 2 - 0.6, 3)).ToArray();
        PairActivations Pair(string[] t0, string[] t1)
        {
            var (v0, v1) = (Acts(t0.Length), Acts(t1.Length));
            float[]? diff = t0.Length == t1.Length ? v0.Zip(v1, (p, q) => p - q).ToArray() : null;
            return new PairActivations(new ActivationText(t0, v0), new ActivationText(t1, v1), diff);
        }
        double m0 = Math.Round(rng.NextDouble(), 3), m1 = Math.Round(rng.NextDouble() - 0.5, 3);
        return new TaskActivations([Pair(a0, a1), Pair(b0, b1), Pair(a1, a0)], m0, m1, m0 - m1);
    }

    static AttentionView Attention(Random rng)
    {
        string[] tokens = ["x", " =", " [", "[", "1", "]"];
        float[][] Pattern()
        {
            return tokens.Select((_, q) =>
            {
                var logits = Enumerable.Range(0, tokens.Length).Select(k => k <= q ? Math.Exp(2 * rng.NextDouble()) : 0).ToArray();
                double sum = logits.Sum();
                return logits.Select(l => (float)(l / sum)).ToArray();
            }).ToArray();
        }
        return new AttentionView(tokens, Pattern(), Pattern(), [2, 5, 11]);
    }

    static NodeProfile Profile(Random rng, string id)
    {
        double min = -1.5 - rng.NextDouble(), max = 2 + 2 * rng.NextDouble();
        (string Label, bool Top, double Fraction)[] buckets =
        [
            ("top 0.1%", true, 0.001), ("top 1%", true, 0.01), ("top 10%", true, 0.1), ("top 50%", true, 0.5),
            ("bottom 50%", false, 0.5), ("bottom 10%", false, 0.1), ("bottom 1%", false, 0.01), ("bottom 0.1%", false, 0.001),
        ];
        var groups = buckets.Select((b, i) =>
        {
            double threshold = b.Top ? max * (1 - b.Fraction) : min * (1 - b.Fraction);
            var snippets = Enumerable.Range(0, 2).Select(s =>
            {
                string[] tokens = CodeLines[(i + s + id.Length) % CodeLines.Length];
                int focus = (i + 3 * s) % tokens.Length;
                float[] acts = tokens.Select((_, t) => (float)Math.Round(t == focus ? threshold : min + (max - min) * rng.NextDouble(), 3)).ToArray();
                return new Snippet(tokens, acts, focus);
            }).ToList();
            return new SnippetGroup(b.Label, b.Top, b.Fraction, Math.Round(threshold, 4), snippets);
        }).ToList();
        double[] qs = [0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999];
        return new NodeProfile(1_048_576, min, max, 0.02, qs.Select(q => new QuantileValue(q, Math.Round(min + (max - min) * q, 4))).ToList(), groups);
    }

    static EmbeddingView Embeddings(Random rng, List<NodeView> nodes)
    {
        string[] vocab = [" (", ")", " [", "]", " {", "}", "def", " return", " self", "\n", "    ", " if", " else", ":", "'", "\"", " for", " in", "import", " x"];
        var usedChannels = nodes.Where(n => n.Location.EndsWith("resid_delta") || n.Location.EndsWith("act_in")).Select(n => n.Index).ToHashSet();
        List<TokenWeight> Side(bool top) => Enumerable.Range(0, 5)
            .Select(i => new TokenWeight(vocab[rng.Next(vocab.Length)], Math.Round((top ? 1 : -1) * (1.5 - 0.2 * i + rng.NextDouble() * 0.1), 3))).ToList();
        var channels = Enumerable.Range(0, 64).Select(c => new EmbeddingChannel(c, Side(true), Side(false), Side(true), Side(false),
            usedChannels.Contains(c) ? [CircuitId] : [])).ToList();
        return new EmbeddingView(channels, 5);
    }

    /// <summary>No circuits, no training metrics, no embeddings, no frontier: what a fresh run's report holds.</summary>
    public static ReportData Empty() => Synthetic() with
    {
        Title = "empty report",
        TrainingCurve = [],
        Tasks = [],
        Circuits = [],
        NodeProfiles = new Dictionary<string, NodeProfile>(),
        Embeddings = new EmbeddingView([], 0),
        Frontier = null,
    };

    /// <summary>A circuit with no nodes or edges, a task row pointing at a circuit that is missing, NaN losses.</summary>
    public static ReportData Degenerate()
    {
        var synthetic = Synthetic();
        var empty = synthetic.Circuits[0] with
        {
            Id = "empty", Task = "if_equals", NodeCount = 0, EdgeCount = 0, Nodes = [], Edges = [], Rows = [], LossCurve = [], Layers = [],
            MaxAbsWeight = 0,
            Validation = new ValidationView(double.NaN, 0.5, double.PositiveInfinity, 0.5, double.NaN, 0.5, double.NaN, double.NaN, double.NaN, double.NaN, 0),
        };
        return synthetic with
        {
            Title = "degenerate report",
            Tasks =
            [
                new("if_equals", true, 0, 0, double.NaN, double.PositiveInfinity, null, null, "empty", null),
                new("with_as", true, 3, 2, 0.1, 0.2, 0.3, 0.4, "no-such-circuit", null),
            ],
            Circuits = [empty],
            Frontier = null,
        };
    }

    /// <summary>Text and figures that try to break out of the page: closing tags, comments, scripts, external URLs.</summary>
    public static ReportData Hostile()
    {
        var synthetic = Synthetic();
        string[] tokens = ["</script>", "<!--", "<script>", "window.pwned=1", "</script>", "-->", "]]>", "{{JS}}", "\u2028", "&amp;"];
        var snippet = new Snippet(tokens, tokens.Select((_, i) => (float)i).ToArray(), 0);
        var profiles = synthetic.NodeProfiles.ToDictionary(p => p.Key, p => p.Value with
        {
            Snippets = [new SnippetGroup("top 0.1%</script><script>window.pwned=2</script>", true, 0.001, 1, [snippet])],
        });
        const string hostileSvg = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="50" onload="window.pwned=3"><script>window.pwned=4</script><image href="http://127.0.0.1:9/leak.png" width="10" height="10"/><a xlink:href="javascript:window.pwned=5"><text x="5" y="20">click</text></a><style>@import url(http://127.0.0.1:9/x.css);</style></svg>""";
        return synthetic with
        {
            Title = "</title><script>window.pwned=6</script>",
            NodeProfiles = profiles,
            Frontier = synthetic.Frontier! with { Figures = [new ReportFigure("<b>hostile</b>", hostileSvg, "</script>")] },
        };
    }
}

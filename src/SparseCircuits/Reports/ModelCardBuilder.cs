using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparseCircuits.Core;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Reports;

/// <summary>
/// The model card of a loaded run. Counts come from the loaded weights: <c>Parameters</c> is
/// every parameter entry (buffers excluded, equal to <see cref="Model.ModelConfig.ParameterCount"/>),
/// <c>Nonzeros</c> the nonzero entries among them, and <c>Density</c> the nonzero fraction of the
/// weight-sparsified matrices only (wte, wpe, c_attn, c_proj, c_fc, lm_head weights: what the
/// training L0 budget controls; norms, biases and the bigram table are left out).
/// </summary>
public static class ModelCardBuilder
{
    /// <param name="unigramValLoss">the unigram baseline on the validation tokens, when known</param>
    public static ModelCard Build(TrainedModel trained, double? unigramValLoss)
    {
        var config = trained.Config;
        var m = config.Model;
        long parameters = 0, nonzeros = 0, sparseEntries = 0, sparseNonzeros = 0;
        using (no_grad())
            foreach (var p in trained.Model.DescribeParameters())
            {
                long numel = p.Tensor.numel();
                long nonzero = p.Tensor.count_nonzero().item<long>();
                parameters += numel;
                nonzeros += nonzero;
                if (!p.IsSparseMatrix) continue;
                sparseEntries += numel;
                sparseNonzeros += nonzero;
            }
        double? valLoss = new CheckpointStore(trained.Run.CheckpointsDir).List()
            .FirstOrDefault(c => Path.GetFullPath(c.Directory) == Path.GetFullPath(trained.CheckpointDir))?.ValLoss;
        return new ModelCard(Name(trained.Run.Path), trained.Run.Path, trained.Step, m.NLayer, m.DModel, m.NHead, m.DHead, m.MlpWidth, m.NCtx,
            m.VocabSize, parameters, nonzeros, sparseEntries == 0 ? 1 : ReportNumbers.Value((double)sparseNonzeros / sparseEntries), config.Dense,
            ReportNumbers.Known(valLoss), ReportNumbers.Known(unigramValLoss), TrainTokens(trained), Flatten(config));
    }

    /// <summary>The run's name: its directory, or for the <c>circuits run</c> layout (<c>runs/NAME/model</c>) NAME.</summary>
    public static string Name(string runDir)
    {
        string full = Path.GetFullPath(runDir).TrimEnd(Path.DirectorySeparatorChar);
        string name = Path.GetFileName(full);
        return name == "model" && Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } parent ? parent : name;
    }

    /// <summary>Tokens trained on up to the loaded checkpoint: from metrics.jsonl when it logged that step, else steps x tokens per step.</summary>
    static long TrainTokens(TrainedModel trained)
    {
        var logged = TrainingCurve.ReadMetrics(trained.Run.Path).LastOrDefault(s => s.Step <= trained.Step);
        return logged?.Step == trained.Step ? logged.Tokens : trained.Step * trained.Config.TokensPerStep;
    }

    /// <summary>The training config as dotted key / value pairs (<c>model.n_layer = 4</c>), in file order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Flatten(TrainingConfig config)
    {
        var result = new List<KeyValuePair<string, string>>();
        void Walk(JsonNode? node, string prefix)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, value) in obj) Walk(value, prefix.Length == 0 ? key : $"{prefix}.{key}");
                    break;
                case JsonArray array:
                    result.Add(new(prefix, array.ToJsonString(Json.Compact)));
                    break;
                case null:
                    result.Add(new(prefix, "null"));
                    break;
                default:
                    var element = node.GetValue<JsonElement>();
                    result.Add(new(prefix, element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText()));
                    break;
            }
        }
        Walk(JsonNode.Parse(Json.Serialize(config)), "");
        return result;
    }
}

using System.Text.Json;
using SparseCircuits.Core;
using SparseCircuits.Training;

namespace SparseCircuits.Official;

/// <summary>What an export wrote, and what the release's format could not carry.</summary>
public sealed record OfficialExportResult(string OutDir, long Bytes, IReadOnlyList<string> Notes);

/// <summary>
/// Writes one of our runs in the release's layout (docs/official-models.md): <c>final_model.pt</c>
/// (torch's zip format) and <c>beeg_config.json</c>, which the release's <c>load_model</c> reads,
/// plus the run's tokenizer files under <c>tokenizer/</c>. Importing the result gives back the
/// same weights bit for bit. The directory is built beside its target and moved in when complete.
/// </summary>
public static class OfficialExport
{
    public const string TokenizerDirName = "tokenizer";

    static readonly JsonSerializerOptions ConfigJson = new() { WriteIndented = true, IndentSize = 1 };

    public static OfficialExportResult Run(string runDir, string outDir, CheckpointChoice checkpoint, IProgressReporter progress)
    {
        string target = OutputPath.CheckDirectory(outDir);
        using TrainedModel trained = TrainedModel.Load(runDir, checkpoint);
        RunManifest? manifest = File.Exists(trained.Run.ManifestFile) ? Json.ReadFile<RunManifest>(trained.Run.ManifestFile) : null;
        var notes = new List<string>();
        string tokenizerName = manifest?.Import?.TokenizerName ?? CustomTokenizer(notes);
        var config = ReleaseConfig.Write(trained.Model.Config, tokenizerName, out IReadOnlyList<string> configNotes);
        notes.InsertRange(0, configNotes);

        using var staged = new StagedDirectory(target, ReleaseConfig.FileName);
        string weights = Path.Combine(staged.Path, OfficialImport.ModelFile);
        using (var bar = progress.Start($"writing {OfficialImport.ModelFile}", 1, "files"))
        {
            TorchZipWriter.WriteStateDict(weights, ReleaseWeights.FromModel(trained.Model));
            bar.Advance(1);
        }
        AtomicFile.WriteAllText(Path.Combine(staged.Path, ReleaseConfig.FileName), config.ToJsonString(ConfigJson) + "\n");
        trained.Tokenizer.CopyFilesTo(Path.Combine(staged.Path, TokenizerDirName));
        long bytes = new FileInfo(weights).Length;
        staged.Commit();
        return new OfficialExportResult(target, bytes, notes);
    }

    /// <summary>The release names tokenizers it knows (tinypython_2k); a run trained here has its own.</summary>
    static string CustomTokenizer(List<string> notes)
    {
        notes.Add($"tokenizer_name is \"custom\": the release knows no name for this run's tokenizer; its files are in {TokenizerDirName}/");
        return "custom";
    }
}

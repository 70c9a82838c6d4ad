using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SparseCircuits.Core;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <summary>
/// A directory of training checkpoints:
/// <code>
/// root/
///   step_000100/
///     model.safetensors       weights by parameter name (metadata: format=pt, step)
///     optimizer.safetensors   optimizer state: step, {name}.exp_avg, {name}.exp_avg_sq
///     trainer_state.json      <see cref="TrainerState"/> (step, tokens, sampler RNG, best val, config hash)
///     config.json             the run's config, byte for byte as given
///     bridges.safetensors     tensors of a <see cref="ITrainingCompanion"/>, when the run has one (any extra file)
///     COMPLETE                <see cref="CheckpointManifest"/>: step, val loss, size + SHA-256 of each file above
///   step_000200/ ...
///   best.json                 <see cref="BestCheckpointPointer"/> to the lowest-val-loss checkpoint
///   .step_000300.partial-PID-ID/   a save in progress (or killed): never read
/// </code>
/// A save is written into a hidden <c>.partial</c> directory, <c>COMPLETE</c> is written last, and a
/// rename to <c>step_N</c> commits it; a directory counts as a checkpoint only under that name
/// and with <c>COMPLETE</c> in it, so a process killed at any point never leaves something that
/// looks complete. (Durability against power loss would also need a directory fsync, which .NET
/// does not expose; files themselves are flushed to disk.) After each save the store keeps the
/// last <see cref="KeepLast"/> checkpoints, the best one and those at multiples of
/// <see cref="KeepEvery"/>, and deletes the rest. "Latest" means
/// the highest step: one writer per directory, and a run restarted from an older checkpoint
/// should write to a fresh directory.
/// </summary>
public sealed partial class CheckpointStore
{
    public const string ModelFile = "model.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    public const string ConfigFile = "config.json";
    public const string CompleteFile = "COMPLETE";
    public const string BestFile = "best.json";

    static readonly string[] DataFiles = [ModelFile, OptimizerFile, StateFile, ConfigFile];

    [GeneratedRegex(@"^step_(\d+)$")]
    private static partial Regex StepDirectoryPattern();

    /// <summary>Hidden directories this store creates on the way: unfinished saves, replaced and half-deleted checkpoints.</summary>
    [GeneratedRegex(@"^\.step_\d+\.(partial|replaced|deleting)-(\d+)-[0-9a-f]+$")]
    private static partial Regex WorkDirectoryPattern();

    public CheckpointStore(string root, int keepLast = 3, int keepEvery = 0)
    {
        if (string.IsNullOrWhiteSpace(root)) throw new SparseCircuitsException("checkpoint directory is empty: give a path");
        if (keepLast < 1) throw new SparseCircuitsException($"checkpoint keep_last must be >= 1 (got {keepLast})");
        if (keepEvery < 0) throw new SparseCircuitsException($"checkpoint keep_every must be >= 0 (got {keepEvery})");
        KeepEvery = keepEvery;
        Root = Path.GetFullPath(root);
        if (File.Exists(Root)) throw new SparseCircuitsException($"checkpoint directory {Root} is a file");
        KeepLast = keepLast;
    }

    public string Root { get; }

    /// <summary>How many of the most recent checkpoints survive pruning (the best one survives too).</summary>
    public int KeepLast { get; }

    /// <summary>Checkpoints whose step is a multiple of this survive pruning as well; 0 = none.</summary>
    public int KeepEvery { get; }

    public static string DirectoryName(long step) => string.Create(CultureInfo.InvariantCulture, $"step_{step:D6}");

    /// <summary>
    /// Writes a checkpoint for <paramref name="step"/> (replacing one of the same step), updates
    /// <c>best.json</c>, prunes, and returns the checkpoint directory. <paramref name="state"/> must
    /// be at <paramref name="step"/>; its <see cref="TrainerState.ConfigSha256"/> is filled in here.
    /// </summary>
    /// <param name="valLoss">validation loss at this step, if evaluated; decides the best checkpoint</param>
    /// <param name="atFinalDensity">false while the weights are still being annealed: then the checkpoint cannot be the best (null = not known)</param>
    /// <param name="extraFiles">further safetensors files by file name (e.g. a companion's), listed and verified like the others</param>
    public string Save(long step, IReadOnlyDictionary<string, Tensor> model, IReadOnlyDictionary<string, Tensor> optimizer,
        TrainerState state, string configJson, double? valLoss, IReadOnlyDictionary<string, IReadOnlyDictionary<string, Tensor>>? extraFiles = null,
        bool? atFinalDensity = null)
    {
        foreach (string file in extraFiles?.Keys ?? [])
            if (DataFiles.Contains(file) || file == CompleteFile || !file.EndsWith(".safetensors", StringComparison.Ordinal) || Path.GetFileName(file) != file)
                throw new ArgumentException($"extra checkpoint file '{file}' must be a plain *.safetensors name other than {string.Join(", ", DataFiles)}", nameof(extraFiles));
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (state.Step != step) throw new ArgumentException($"trainer state is at step {state.Step} but the checkpoint is for step {step}", nameof(state));
        try { JsonDocument.Parse(configJson).Dispose(); }
        catch (JsonException e) { throw new ArgumentException($"config is not valid JSON: {e.Message}", nameof(configJson)); }

        string target = Path.Combine(Root, DirectoryName(step));
        string staging = WorkDirectory(target, "partial");
        try
        {
            Directory.CreateDirectory(staging);
            var tensorMetadata = new Dictionary<string, string> { ["format"] = "pt", ["step"] = step.ToString(CultureInfo.InvariantCulture) };
            SafeTensors.Write(Path.Combine(staging, ModelFile), model, tensorMetadata);
            SafeTensors.Write(Path.Combine(staging, OptimizerFile), optimizer, tensorMetadata);
            byte[] config = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(configJson);
            AtomicFile.WriteAllBytes(Path.Combine(staging, ConfigFile), config);
            AtomicFile.WriteJson(Path.Combine(staging, StateFile), state with { ConfigSha256 = Hashing.Sha256(config) });
            foreach (var (file, tensors) in extraFiles ?? new Dictionary<string, IReadOnlyDictionary<string, Tensor>>())
                SafeTensors.Write(Path.Combine(staging, file), tensors, tensorMetadata);
            var digests = DataFiles.Concat(extraFiles?.Keys ?? []).ToDictionary(f => f, f => Digest(Path.Combine(staging, f)));
            // Last file written: until it exists nothing in the directory is trusted.
            AtomicFile.WriteJson(Path.Combine(staging, CompleteFile),
                new CheckpointManifest(CheckpointManifest.CurrentFormat, step, valLoss, digests, atFinalDensity));
            Commit(staging, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SparseCircuitsException($"cannot write checkpoint {target}: {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }

        IReadOnlyList<CheckpointInfo> checkpoints = List();
        UpdateBestPointer(checkpoints);
        Prune(checkpoints);
        return target;
    }

    static string WorkDirectory(string checkpoint, string purpose) =>
        Path.Combine(Path.GetDirectoryName(checkpoint)!, $".{Path.GetFileName(checkpoint)}.{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}");

    static CheckpointFileDigest Digest(string path) => new(new FileInfo(path).Length, Hashing.Sha256File(path));

    /// <summary>
    /// The rename is the commit. A checkpoint saved again for the same step is moved aside first
    /// (a directory cannot be renamed over a non-empty one); a crash between those two renames
    /// loses that step's checkpoint, never leaves a damaged one, and earlier checkpoints remain.
    /// </summary>
    static void Commit(string staging, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staging, target);
            return;
        }
        string aside = WorkDirectory(target, "replaced");
        Directory.Move(target, aside);
        Directory.Move(staging, target);
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>Complete checkpoints, oldest first. Directories without <c>COMPLETE</c> are not checkpoints and are skipped.</summary>
    public IReadOnlyList<CheckpointInfo> List()
    {
        if (!Directory.Exists(Root)) return [];
        var result = new List<CheckpointInfo>();
        foreach (string dir in Directory.EnumerateDirectories(Root))
        {
            Match match = StepDirectoryPattern().Match(Path.GetFileName(dir));
            if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long step)) continue;
            if (!File.Exists(Path.Combine(dir, CompleteFile))) continue;
            CheckpointManifest manifest = ReadManifest(dir);
            if (manifest.Step != step) throw new SparseCircuitsException($"{Path.Combine(dir, CompleteFile)} is for step {manifest.Step}, not {step}");
            result.Add(new CheckpointInfo(step, dir, manifest.ValLoss, manifest.AtFinalDensity));
        }
        return result.OrderBy(c => c.Step).ToList();
    }

    /// <summary>The complete checkpoint with the highest step, or null when there is none.</summary>
    public CheckpointInfo? Latest() => List().LastOrDefault();

    /// <summary>
    /// The complete checkpoint with the lowest validation loss (the earliest on ties), or null when none
    /// has one. Checkpoints saved while the weights were still being annealed do not compete: denser
    /// than the run's model, they can have a lower loss (a run started from a dense model is at its
    /// best before sparsity has cost it anything).
    /// </summary>
    public CheckpointInfo? Best() => Best(List());

    static CheckpointInfo? Best(IReadOnlyList<CheckpointInfo> checkpoints) =>
        checkpoints.Where(c => c.AtFinalDensity != false && c.ValLoss is double v && !double.IsNaN(v)).MinBy(c => c.ValLoss);

    public Checkpoint? LoadLatest() => Latest() is { } latest ? Load(latest.Directory) : null;

    public Checkpoint? LoadBest() => Best() is { } best ? Load(best.Directory) : null;

    /// <summary>
    /// Loads one checkpoint directory after checking every file against the sizes and SHA-256
    /// digests in its <c>COMPLETE</c> manifest; anything missing, truncated or altered is a
    /// one-line <see cref="SparseCircuitsException"/>.
    /// </summary>
    public static Checkpoint Load(string directory)
    {
        string dir = Path.GetFullPath(directory);
        if (!Directory.Exists(dir)) throw new SparseCircuitsException($"checkpoint directory not found: {dir}");
        if (!File.Exists(Path.Combine(dir, CompleteFile)))
            throw new SparseCircuitsException($"{dir} is not a complete checkpoint (no {CompleteFile} marker; was the save interrupted?)");
        CheckpointManifest manifest = ReadManifest(dir);
        foreach (string file in DataFiles) Verify(dir, file, manifest);
        var extraFiles = manifest.Files.Keys.Where(f => !DataFiles.Contains(f)).Order(StringComparer.Ordinal).ToList();
        foreach (string file in extraFiles)
        {
            if (Path.GetFileName(file) != file || !file.EndsWith(".safetensors", StringComparison.Ordinal))
                throw new SparseCircuitsException($"{Path.Combine(dir, CompleteFile)} lists '{file}', which is not a checkpoint file name");
            Verify(dir, file, manifest);
        }

        string statePath = Path.Combine(dir, StateFile);
        TrainerState state = Json.ReadFile<TrainerState>(statePath);
        if (state.Format != TrainerState.CurrentFormat)
            throw new SparseCircuitsException($"{statePath} has format {state.Format}; this version reads format {TrainerState.CurrentFormat}");
        if (state.Step != manifest.Step)
            throw new SparseCircuitsException($"{statePath} is at step {state.Step} but the checkpoint is for step {manifest.Step}");
        byte[] config = File.ReadAllBytes(Path.Combine(dir, ConfigFile));
        if (state.ConfigSha256 != Hashing.Sha256(config))
            throw new SparseCircuitsException($"{Path.Combine(dir, ConfigFile)} is not the config this checkpoint was trained with (hash differs from {StateFile})");

        OrderedDictionary<string, Tensor> model = SafeTensors.Read(Path.Combine(dir, ModelFile)).Tensors;
        var extra = new Dictionary<string, OrderedDictionary<string, Tensor>>(StringComparer.Ordinal);
        try
        {
            OrderedDictionary<string, Tensor> optimizer = SafeTensors.Read(Path.Combine(dir, OptimizerFile)).Tensors;
            try
            {
                foreach (string file in extraFiles) extra[file] = SafeTensors.Read(Path.Combine(dir, file)).Tensors;
            }
            catch
            {
                foreach (Tensor t in optimizer.Values) t.Dispose();
                throw;
            }
            return new Checkpoint(manifest.Step, dir, model, optimizer, state, Encoding.UTF8.GetString(config), manifest.ValLoss, extra);
        }
        catch
        {
            foreach (Tensor t in model.Values.Concat(extra.Values.SelectMany(e => e.Values))) t.Dispose();
            throw;
        }
    }

    static CheckpointManifest ReadManifest(string dir)
    {
        string path = Path.Combine(dir, CompleteFile);
        CheckpointManifest manifest = Json.ReadFile<CheckpointManifest>(path);
        if (manifest.Format != CheckpointManifest.CurrentFormat)
            throw new SparseCircuitsException($"{path} has format {manifest.Format}; this version reads format {CheckpointManifest.CurrentFormat}");
        if (manifest.Files is null) throw new SparseCircuitsException($"{path} lists no files");
        return manifest;
    }

    static void Verify(string dir, string file, CheckpointManifest manifest)
    {
        string path = Path.Combine(dir, file);
        if (!manifest.Files.TryGetValue(file, out CheckpointFileDigest? digest) || digest is null)
            throw new SparseCircuitsException($"{Path.Combine(dir, CompleteFile)} lists no {file}");
        if (!File.Exists(path)) throw new SparseCircuitsException($"checkpoint file missing: {path}");
        long length = new FileInfo(path).Length;
        if (length != digest.Bytes)
            throw new SparseCircuitsException($"{path} is {length} bytes but was saved with {digest.Bytes} (truncated or replaced)");
        if (Hashing.Sha256File(path) != digest.Sha256)
            throw new SparseCircuitsException($"{path} does not match the SHA-256 recorded in {CompleteFile} (corrupted)");
    }

    void UpdateBestPointer(IReadOnlyList<CheckpointInfo> checkpoints)
    {
        string pointer = Path.Combine(Root, BestFile);
        if (Best(checkpoints) is { } best)
            AtomicFile.WriteJson(pointer, new BestCheckpointPointer(CheckpointManifest.CurrentFormat, best.Step, Path.GetFileName(best.Directory), best.ValLoss!.Value));
        else if (File.Exists(pointer))
            File.Delete(pointer);
    }

    void Prune(IReadOnlyList<CheckpointInfo> checkpoints)
    {
        var keep = checkpoints.TakeLast(KeepLast).Select(c => c.Directory).ToHashSet();
        if (Best(checkpoints) is { } best) keep.Add(best.Directory);
        if (KeepEvery > 0) keep.UnionWith(checkpoints.Where(c => c.Step % KeepEvery == 0).Select(c => c.Directory));
        foreach (CheckpointInfo c in checkpoints)
        {
            if (keep.Contains(c.Directory)) continue;
            // Renamed before deleting, so a half-deleted checkpoint never sits under a step_N name.
            string doomed = WorkDirectory(c.Directory, "deleting");
            try
            {
                Directory.Move(c.Directory, doomed);
                Directory.Delete(doomed, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The save itself succeeded; a checkpoint that could not be pruned is retried next time.
            }
        }
        RemoveLeftovers();
    }

    /// <summary>Removes work directories of saves that were killed; those of a live process are left alone.</summary>
    void RemoveLeftovers()
    {
        foreach (string dir in Directory.EnumerateDirectories(Root))
        {
            Match match = WorkDirectoryPattern().Match(Path.GetFileName(dir));
            if (!match.Success) continue;
            if (int.TryParse(match.Groups[2].Value, CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId && IsRunning(pid)) continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* invisible to loading; retried next save */ }
        }
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

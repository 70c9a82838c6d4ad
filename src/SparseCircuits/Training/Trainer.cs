using System.Diagnostics;
using SparseCircuits.Core;
using SparseCircuits.Data;
using SparseCircuits.Model;
using static TorchSharp.torch;

namespace SparseCircuits.Training;

/// <param name="StopAfterStep">stop (with a checkpoint) once this many steps are done, e.g. to split a run over sessions</param>
/// <param name="Companion">parameters trained next to the model with their own loss (bridges), or null for plain training</param>
public sealed record TrainingRequest(TrainingConfig Config, string DataDir, string OutDir, bool Resume = false,
    long? StopAfterStep = null, string CommandLine = "", ITrainingCompanion? Companion = null);

public sealed record TrainingResult(long Step, double? ValLoss, double UnigramValLoss, double TokensPerSecond, TimeSpan Elapsed, string CheckpointDir);

/// <summary>
/// The weight-sparse training loop (docs/method.md, "Weight-sparse training"). One step:
/// forward/backward on a random batch -> gradient RMS normalisation -> Adam -> top-k projection of
/// every sparse matrix to the annealed L0 budget -> decoupled weight decay. Runs resume exactly:
/// model, optimizer moments, sampler state and step all live in the checkpoint.
/// </summary>
public static class Trainer
{
    public static TrainingResult Run(TrainingRequest request, IProgressReporter progress, CancellationToken cancellation = default)
    {
        TrainingConfig config = request.Config.Validate();
        ITrainingCompanion? companion = request.Companion;
        // The companion's batch runs as one pass; splitting it into streams is not implemented.
        if (companion is not null && config.Streams != 1)
            throw new SparseCircuitsException($"training config: streams must be 1 when training with {companion.CheckpointFile} (got {config.Streams})");
        TorchRuntime.EnsureInitialized();
        var run = new RunDirectory(Path.GetFullPath(request.OutDir));
        ShardManifest shards = ShardManifest.Load(request.DataDir);
        if (shards.VocabSize != config.Model.VocabSize)
            throw new SparseCircuitsException($"shards in {request.DataDir} use a vocabulary of {shards.VocabSize} but the model config has vocab_size {config.Model.VocabSize}");
        string configJson = Json.Serialize(config);
        using var train = shards.Open(request.DataDir, CorpusSplit.Train);
        using var val = shards.Open(request.DataDir, CorpusSplit.Val);
        if (val.Length < config.Model.NCtx + 1)
            throw new SparseCircuitsException($"the val shard of {request.DataDir} has {val.Length} tokens, fewer than one window of {config.Model.NCtx + 1}; use a larger corpus or a bigger val share");
        // Two trainings of one directory would both write checkpoints; the second stops at once.
        using var runLock = DirectoryLock.Acquire(run.Path, LockFileName, "another training");
        PrepareRunDirectory(run, request, configJson);

        var sampler = new RandomWindowSampler(train, config.BatchSize, config.Model.NCtx, config.Seed, config.RepeatFraction);
        using var generator = new Generator().manual_seed((long)config.Seed);
        using var model = new SparseGpt(config.Model, generator) { MatmulPrecision = config.MatmulPrecision, LinearKernels = config.Kernels };
        var parameters = model.DescribeParameters();
        bool frozen = companion?.FreezesModel == true;
        if (frozen) foreach (var p in model.parameters()) p.requires_grad_(false);
        using var optimizer = new AdamWithDecoupledDecay(
            parameters.Where(_ => !frozen).Select(p => new OptimizedParameter(p.Name, p.Tensor, Decay: p.IsSparseMatrix)).Concat(companion?.Parameters ?? []), config.Optimizer);
        var store = new CheckpointStore(run.CheckpointsDir, config.KeepLastCheckpoints, config.KeepCheckpointsEvery);

        long step = 0, tokensSeen = 0;
        double? bestVal = null;
        if (request.Resume && store.LoadLatest() is { } checkpoint)
        {
            using (checkpoint)
            {
                if (Canonical(checkpoint.ConfigJson) != configJson)
                    throw new SparseCircuitsException($"checkpoint {checkpoint.Directory} was trained with a different config; resume with the run's own config.json");
                ModelWeights.Import(model, checkpoint.Model, checkpoint.Directory);
                if (companion is null && checkpoint.Extra.Count > 0)
                    throw new SparseCircuitsException($"checkpoint {checkpoint.Directory} also holds {string.Join(", ", checkpoint.Extra.Keys)}: the run was trained with a companion; resume it with the command that started it (circuits bridges train --resume)");
                if (companion is not null)
                    companion.Import(checkpoint.Extra.TryGetValue(companion.CheckpointFile, out var saved) ? saved
                        : throw new SparseCircuitsException($"checkpoint {checkpoint.Directory} has no {companion.CheckpointFile}; it was not trained with one"),
                        Path.Combine(checkpoint.Directory, companion.CheckpointFile));
                optimizer.ImportState(checkpoint.Optimizer);
                (step, tokensSeen, bestVal) = (checkpoint.State.Step, checkpoint.State.TokensSeen, checkpoint.State.BestValLoss);
                sampler.State = checkpoint.State.SamplerRngState;
            }
        }
        string? initHash = null;
        if (step == 0 && config.InitFrom is string initFrom) initHash = InitialWeights.Load(model, config.Model, initFrom);
        WriteManifest(run, config, configJson, shards, request, step, initHash);

        long stopAt = Math.Min(config.Steps, request.StopAfterStep ?? config.Steps);
        double unigram = LanguageModelEval.UnigramBaseline(train, val, config.Model.VocabSize, config.Model.NCtx, config.EvalTokens);
        progress.Info($"unigram baseline on val: {unigram:0.000} nats/token");
        ScheduleConfig schedule = config.Schedule();
        var sparseTargets = SparseTargets(parameters, config);
        Tensor[] gradTensors = parameters.Select(p => (Tensor)p.Tensor).ToArray();
        Tensor[] normalized = gradTensors.Where(_ => !frozen).Concat(companion?.Parameters.Select(p => p.Value) ?? []).ToArray();
        var windows = new long[config.BatchSize * (config.Model.NCtx + 1)];
        int T = config.Model.NCtx;
        string? lastCheckpoint = store.Latest()?.Directory;
        double? lastVal = null;

        using var metrics = new MetricsLog(run.Path, step);
        using var bar = progress.Start("training", config.Steps, "steps");
        bar.Set(step);
        var clock = Stopwatch.StartNew();
        long startStep = step;
        var intervalClock = Stopwatch.StartNew();
        long intervalTokens = 0;
        model.train();
        while (step < stopAt)
        {
            cancellation.ThrowIfCancellationRequested();
            double loss, gradRms, lr, density;
            IReadOnlyDictionary<string, double>? terms = null;
            using (var scope = NewDisposeScope())
            {
                sampler.Next(windows);
                Tensor batch = tensor(windows).view(config.BatchSize, T + 1);
                if (companion is null) loss = BatchStreams.ForwardBackward(model, batch, gradTensors, config.Streams);
                else (loss, terms) = companion.ForwardBackward(model, batch, step);
                if (!double.IsFinite(loss))
                    throw new SparseCircuitsException($"training loss became {loss} at step {step}; stopped without saving. Last good checkpoint: {lastCheckpoint ?? "none"}. Try a lower learning_rate.");
                gradRms = GradientNormalizer.Apply(normalized, config.GradientNormalization);
                lr = SharkfinSchedule.LearningRate(schedule, step);
                optimizer.Step(lr);
                density = L0Annealing.Density(schedule, step);
                if (!config.Dense && !frozen) Project(sparseTargets, schedule, step, config);
                optimizer.ApplyWeightDecay(lr);
            }
            step++;
            tokensSeen += config.TokensPerStep;
            intervalTokens += config.TokensPerStep;

            bool evalNow = step % config.EvalInterval == 0 || step == config.Steps;
            bool checkpointNow = step % config.CheckpointInterval == 0 || step == stopAt;
            double? valLoss = null;
            if (evalNow || checkpointNow)
            {
                valLoss = EvalInFp32(model, val, config.EvalTokens);
                lastVal = valLoss;
            }
            bool logNow = step % config.LogInterval == 0 || valLoss is not null;
            double? rate = null;
            IReadOnlyDictionary<string, double>? achieved = null;
            if (logNow)
            {
                rate = intervalTokens / Math.Max(intervalClock.Elapsed.TotalSeconds, 1e-9);
                achieved = AchievedDensity(parameters);
                intervalClock.Restart();
                intervalTokens = 0;
            }
            metrics.Write(new StepMetrics(step, tokensSeen, loss, lr, gradRms, config.Dense ? 1 : density, valLoss, rate, achieved, terms));
            bar.Set(step);
            if (logNow) bar.Status($"loss {loss:0.000}" + (lastVal is double v ? $" · val {v:0.000}" : "") + $" · {rate / 1000:0.0}k tok/s");

            if (checkpointNow)
            {
                metrics.Flush(); // metrics reach disk before the checkpoint that vouches for them
                // The weights were last projected at schedule step `step - 1`.
                bool atFinalDensity = config.Dense || frozen || L0Annealing.HasEnded(schedule, step - 1);
                if (atFinalDensity && valLoss is double vl && (bestVal is null || vl < bestVal)) bestVal = vl;
                var state = new TrainerState(step, tokensSeen, sampler.State, bestVal);
                lastCheckpoint = store.Save(step, ModelWeights.Export(model), optimizer.ExportState(), state, configJson, valLoss,
                    companion is null ? null : new Dictionary<string, IReadOnlyDictionary<string, Tensor>> { [companion.CheckpointFile] = companion.Export() },
                    atFinalDensity);
            }
        }
        metrics.Flush();
        double seconds = clock.Elapsed.TotalSeconds;
        double tokensPerSecond = (step - startStep) * config.TokensPerStep / Math.Max(seconds, 1e-9);
        return new TrainingResult(step, lastVal, unigram, tokensPerSecond, clock.Elapsed, lastCheckpoint ?? "");
    }

    /// <summary>Val loss with fp32 matmuls whatever the training precision, so runs compare.</summary>
    static double EvalInFp32(SparseGpt model, TokenShard val, long tokens)
    {
        MatmulPrecision training = model.MatmulPrecision;
        model.MatmulPrecision = MatmulPrecision.Fp32;
        using var layouts = model.CacheSparseLayouts(); // the weights stay fixed while evaluating
        try { return LanguageModelEval.Loss(model, val, tokens).LossNats; }
        finally { model.MatmulPrecision = training; }
    }

    sealed record SparseTarget(ModelParameter Parameter, double FinalDensity, NeuronAxis Axis, int MinPerNeuron);

    static List<SparseTarget> SparseTargets(IReadOnlyList<ModelParameter> parameters, TrainingConfig config) =>
        parameters.Select(p => p.Kind switch
            {
                ParameterKind.Matrix => new SparseTarget(p, config.WeightDensity, p.NeuronAxis, config.MinPerNeuron),
                ParameterKind.Embedding => new SparseTarget(p, config.EmbeddingDensity, NeuronAxis.None, 0),
                ParameterKind.Bias when config.SparseBiases => new SparseTarget(p, config.WeightDensity, NeuronAxis.None, 0),
                _ => null,
            })
            .OfType<SparseTarget>().ToList();

    /// <summary>Top-k projection of every sparse tensor to its annealed budget at <paramref name="step"/>.</summary>
    public static void Project(IEnumerable<ModelParameter> parameters, TrainingConfig config, long step) =>
        Project(SparseTargets(parameters.ToList(), config), config.Schedule(), step, config);

    static void Project(List<SparseTarget> targets, ScheduleConfig schedule, long step, TrainingConfig config)
    {
        foreach (var t in targets)
        {
            double density = L0Annealing.Density(schedule, step, t.FinalDensity);
            Tensor w = t.Parameter.Tensor.dim() == 2 ? t.Parameter.Tensor : t.Parameter.Tensor.view(1, -1); // biases as one row
            WeightSparsity.Project(w, L0Annealing.NonzeroCount(density, w.numel()), t.MinPerNeuron, t.Axis);
        }
    }

    static Dictionary<string, double> AchievedDensity(IReadOnlyList<ModelParameter> parameters) =>
        parameters.Where(p => p.Kind is ParameterKind.Matrix or ParameterKind.Embedding)
            .ToDictionary(p => p.Name, p => Math.Round(WeightSparsity.Density(p.Tensor), 6));

    const string LockFileName = ".train.lock";

    /// <summary>
    /// A stored config as this version writes it: fields added since (at their defaults) do not
    /// make a run of an older version look like another config.
    /// </summary>
    static string Canonical(string configJson)
    {
        try { return Json.Serialize(ConfigLoader.Load(new TrainingConfig(), [System.Text.Json.Nodes.JsonNode.Parse(configJson)!.AsObject()], [])); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or SparseCircuitsException) { return configJson; }
    }

    static void PrepareRunDirectory(RunDirectory run, TrainingRequest request, string configJson)
    {
        if (File.Exists(run.Path)) throw new SparseCircuitsException($"output path {run.Path} is a file, not a directory");
        if (run.HasRun)
        {
            if (!request.Resume)
                throw new SparseCircuitsException($"{run.Path} already holds a training run; pass --resume to continue it or choose another --out");
            if (Canonical(File.ReadAllText(run.ConfigFile)) != configJson)
                throw new SparseCircuitsException($"{run.ConfigFile} differs from the requested config; resume with the same preset and options (or --config {run.ConfigFile})");
            request.Companion?.PrepareRun(run.Path, resuming: true);
            return;
        }
        // Resuming nothing would silently start a fresh run under the wrong name.
        if (request.Resume) throw new SparseCircuitsException($"--resume: {run.Path} holds no training run to resume (drop --resume to start one)");
        if (Directory.Exists(run.Path) && Directory.EnumerateFileSystemEntries(run.Path).Any(e => Path.GetFileName(e) != LockFileName))
            throw new SparseCircuitsException($"output directory {run.Path} is not empty and holds no training run; choose another --out");
        Directory.CreateDirectory(run.Path);
        string tokenizerSource = Path.Combine(request.DataDir, ShardManifest.TokenizerDirName);
        if (Directory.Exists(tokenizerSource)) CopyDirectory(tokenizerSource, run.TokenizerDir);
        request.Companion?.PrepareRun(run.Path, resuming: false);
        AtomicFile.WriteAllText(run.ConfigFile, configJson + "\n"); // last: its presence marks a run
    }

    static void WriteManifest(RunDirectory run, TrainingConfig config, string configJson, ShardManifest shards, TrainingRequest request, long fromStep,
        string? initHash)
    {
        var sessions = new List<RunSession>();
        if (File.Exists(run.ManifestFile))
        {
            RunManifest previous = Json.ReadFile<RunManifest>(run.ManifestFile);
            sessions.AddRange(previous.Sessions);
            initHash ??= previous.InitWeightsSha256;
        }
        sessions.Add(new RunSession(DateTime.UtcNow.ToString("O"), fromStep, request.CommandLine));
        AtomicFile.WriteJson(run.ManifestFile, new RunManifest(1, ToolVersions.Current(), Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes(configJson)),
            config.Seed, TorchRuntime.Threads, Path.GetFullPath(request.DataDir),
            Hashing.Sha256File(Path.Combine(request.DataDir, ShardManifest.FileName)), shards.TokenizerHash, sessions, InitWeightsSha256: initHash));
    }

    static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }
}

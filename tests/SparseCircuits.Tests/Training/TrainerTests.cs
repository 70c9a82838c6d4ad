using SparseCircuits.Core;
using SparseCircuits.Model;
using SparseCircuits.Tests.Support;
using SparseCircuits.Training;
using static TorchSharp.torch;

namespace SparseCircuits.Tests.Training;

public sealed class TrainerTests(SyntheticData data) : IClassFixture<SyntheticData>
{
    TrainingConfig Tiny(long steps = 40) => TrainingPresets.Get("tiny", data.VocabSize) with
    {
        Steps = steps, BatchSize = 4, LogInterval = 1, EvalInterval = 10, CheckpointInterval = 10, EvalTokens = 512,
        Model = ModelPresets.Get("tiny", data.VocabSize) with { NCtx = 32 },
    };

    [Fact]
    public void Resumed_run_reproduces_the_uninterrupted_losses_bit_for_bit()
    {
        using var dir = new TempDir();
        var config = Tiny(30);
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["straight"]), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["split"], StopAfterStep: 13), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["split"], Resume: true, StopAfterStep: 21), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["split"], Resume: true), NullProgress.Instance);

        var straight = MetricsLog.Read(dir["straight"]);
        var split = MetricsLog.Read(dir["split"]);
        Assert.Equal(30, straight.Count);
        Assert.Equal(straight.Select(m => m.Step), split.Select(m => m.Step));
        Assert.Equal(straight.Select(m => m.TrainLoss), split.Select(m => m.TrainLoss));
        Assert.Equal(straight.Select(m => m.GradRms), split.Select(m => m.GradRms));
        Assert.Equal(straight[^1].ValLoss, split[^1].ValLoss);
    }

    [Fact]
    public void Keep_checkpoints_every_keeps_a_learning_curve_and_is_left_out_of_config_files_at_zero()
    {
        using var dir = new TempDir();
        Trainer.Run(new TrainingRequest(Tiny(60) with { KeepLastCheckpoints = 1, KeepCheckpointsEvery = 20 }, data.ShardDir, dir["curve"]), NullProgress.Instance);
        var kept = new CheckpointStore(Path.Combine(dir["curve"], "checkpoints")).List().Select(c => c.Step).ToList();
        Assert.Equal([20L, 40, 60], kept.Where(s => s % 20 == 0));
        Assert.DoesNotContain(10L, kept.Where(s => s != new CheckpointStore(Path.Combine(dir["curve"], "checkpoints")).Best()?.Step));
        Assert.Contains("\"keep_checkpoints_every\": 20", File.ReadAllText(Path.Combine(dir["curve"], "config.json")));
        Assert.DoesNotContain("keep_checkpoints_every", Json.Serialize(Tiny()));
    }

    [Fact]
    public void Batch_streams_train_like_one_batch_and_resume_bit_for_bit()
    {
        using var dir = new TempDir();
        var one = Tiny(12);
        var two = one with { Streams = 2 };
        Trainer.Run(new TrainingRequest(one, data.ShardDir, dir["one"]), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(two, data.ShardDir, dir["two"]), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(two, data.ShardDir, dir["split"], StopAfterStep: 5), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(two, data.ShardDir, dir["split"], Resume: true), NullProgress.Instance);
        var a = MetricsLog.Read(dir["one"]);
        var b = MetricsLog.Read(dir["two"]);
        // The same batches: the first loss agrees to float rounding, later ones stay close (summation order differs).
        Assert.Equal(a[0].TrainLoss, b[0].TrainLoss, 4);
        Assert.Equal(a[0].GradRms, b[0].GradRms, 6);
        for (int i = 0; i < a.Count; i++) Assert.True(Math.Abs(a[i].TrainLoss - b[i].TrainLoss) < 0.02, $"step {i + 1}: {a[i].TrainLoss} vs {b[i].TrainLoss}");
        // Deterministic: a resumed two-stream run repeats the uninterrupted one exactly.
        var split = MetricsLog.Read(dir["split"]);
        Assert.Equal(b.Select(m => m.TrainLoss), split.Select(m => m.TrainLoss));
        Assert.Equal(b.Select(m => m.GradRms), split.Select(m => m.GradRms));
    }

    [Fact]
    public void Checkpoints_record_whether_the_weights_had_reached_their_density_and_only_those_can_be_best()
    {
        using var dir = new TempDir();
        // 40 steps, annealed over the first 20: the checkpoints at 10 and 20 are mid-anneal (the one at 20
        // holds the weights projected at schedule step 19), those at 30 and 40 are at the final density.
        Trainer.Run(new TrainingRequest(Tiny(40) with { AnnealFraction = 0.5, KeepLastCheckpoints = 10 }, data.ShardDir, dir["run"]), NullProgress.Instance);
        var store = new CheckpointStore(Path.Combine(dir["run"], "checkpoints"));
        Assert.Equal([(10L, false), (20, false), (30, true), (40, true)], store.List().Select(c => (c.Step, c.AtFinalDensity ?? false)));
        Assert.True(store.Best()!.Step >= 30);

        Trainer.Run(new TrainingRequest(Tiny(20) with { Dense = true, AnnealFraction = 0.5 }, data.ShardDir, dir["dense"]), NullProgress.Instance);
        Assert.All(new CheckpointStore(Path.Combine(dir["dense"], "checkpoints")).List(), c => Assert.True(c.AtFinalDensity));
    }

    [Fact]
    public void A_warm_started_run_begins_from_the_given_weights_and_records_them()
    {
        using var dir = new TempDir();
        Trainer.Run(new TrainingRequest(Tiny(20), data.ShardDir, dir["first"]), NullProgress.Instance);
        string from = InitialWeights.Resolve(dir["first"]);
        Assert.True(File.Exists(Path.Combine(from, CheckpointStore.CompleteFile)));
        var warm = Tiny(6) with { InitFrom = from, AnnealFraction = 0, Seed = 7 };
        Trainer.Run(new TrainingRequest(warm, data.ShardDir, dir["warm"], StopAfterStep: 3), NullProgress.Instance);
        Trainer.Run(new TrainingRequest(warm, data.ShardDir, dir["warm"], Resume: true), NullProgress.Instance);

        // The first step's loss is the starting model's loss on the run's first batch.
        using TrainedModel start = TrainedModel.Load(dir["first"]);
        var metrics = MetricsLog.Read(dir["warm"]);
        Assert.Equal(FirstBatchLoss(start.Model, warm), metrics[0].TrainLoss, 4);
        var cold = MetricsLog.Read(dir["first"]);
        Assert.True(metrics[0].TrainLoss < cold[0].TrainLoss - 0.5, $"warm start {metrics[0].TrainLoss} vs random {cold[0].TrainLoss}");

        // The manifest names the starting weights, also after the resume.
        var manifest = Json.ReadFile<RunManifest>(new RunDirectory(dir["warm"]).ManifestFile);
        Assert.Equal(Hashing.Sha256File(Path.Combine(from, CheckpointStore.ModelFile)), manifest.InitWeightsSha256);
        Assert.Equal(2, manifest.Sessions.Count);
    }

    [Fact]
    public void A_model_trained_without_AbsTopK_warm_starts_one_with_it()
    {
        // The dense-first schedule: activation sparsity holds no parameters, so it may differ.
        using var dir = new TempDir();
        TrainingConfig plain = Tiny(20) with { Model = Tiny().Model with { ActivationSparsity = ActivationSparsity.Off } };
        Trainer.Run(new TrainingRequest(plain, data.ShardDir, dir["plain"]), NullProgress.Instance);
        string from = InitialWeights.Resolve(dir["plain"]);
        var sparse = Tiny(4) with { InitFrom = from, AnnealFraction = 0 };
        Assert.NotEqual(plain.Model.ActivationSparsity, sparse.Model.ActivationSparsity);
        Trainer.Run(new TrainingRequest(sparse, data.ShardDir, dir["sparse"]), NullProgress.Instance);

        // Its first loss is the plain model's weights run with AbsTopK, not without it.
        using var withAbsTopK = new SparseGpt(sparse.Model, new Generator(0, CPU));
        InitialWeights.Load(withAbsTopK, sparse.Model, from);
        using TrainedModel without = TrainedModel.Load(dir["plain"]);
        double first = MetricsLog.Read(dir["sparse"])[0].TrainLoss;
        Assert.Equal(FirstBatchLoss(withAbsTopK, sparse), first, 4);
        Assert.True(Math.Abs(FirstBatchLoss(without.Model, sparse) - first) > 1e-3, "AbsTopK changed nothing");
        Assert.Equal(Hashing.Sha256File(Path.Combine(from, CheckpointStore.ModelFile)), Json.ReadFile<RunManifest>(new RunDirectory(dir["sparse"]).ManifestFile).InitWeightsSha256);
    }

    /// <summary>The loss of <paramref name="model"/> on the first batch a run of <paramref name="config"/> draws.</summary>
    double FirstBatchLoss(SparseGpt model, TrainingConfig config)
    {
        var shards = SparseCircuits.Data.ShardManifest.Load(data.ShardDir);
        using var train = shards.Open(data.ShardDir, SparseCircuits.Data.CorpusSplit.Train);
        var windows = new long[config.BatchSize * (config.Model.NCtx + 1)];
        new SparseCircuits.Data.RandomWindowSampler(train, config.BatchSize, config.Model.NCtx, config.Seed).Next(windows);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor batch = tensor(windows).view(config.BatchSize, -1);
        Tensor logits = model.forward(batch.narrow(1, 0, config.Model.NCtx));
        return FusedCrossEntropy.Mean(logits.view(-1, logits.shape[2]), batch.narrow(1, 1, config.Model.NCtx).reshape(-1)).item<float>();
    }

    [Fact]
    public void A_warm_start_from_another_model_shape_or_no_run_is_refused_in_one_line()
    {
        using var dir = new TempDir();
        Trainer.Run(new TrainingRequest(Tiny(10), data.ShardDir, dir["first"]), NullProgress.Instance);
        var wider = Tiny(4) with { InitFrom = InitialWeights.Resolve(dir["first"]), Model = Tiny().Model with { DModel = 48 } };
        var shape = Assert.Throws<SparseCircuitsException>(() => Trainer.Run(new TrainingRequest(wider, data.ShardDir, dir["wide"]), NullProgress.Instance));
        Assert.Contains("model.d_model differs", shape.Message);
        var empty = Directory.CreateDirectory(dir["empty"]).FullName;
        Assert.Contains("not a training run", Assert.Throws<SparseCircuitsException>(() => InitialWeights.Resolve(empty)).Message);
        Assert.Contains("init_from", Assert.Throws<SparseCircuitsException>(() => (Tiny(4) with { InitFrom = dir["missing"] }).Validate()).Message);
    }

    [Fact]
    public void Streams_must_divide_the_batch()
    {
        var e = Assert.Throws<SparseCircuitsException>(() => (Tiny() with { BatchSize = 4, Streams = 3 }).Validate());
        Assert.Contains("streams", e.Message);
        Assert.Throws<SparseCircuitsException>(() => (Tiny() with { Streams = 0 }).Validate());
    }

    [Fact]
    public void Repeat_fraction_is_left_out_of_config_files_at_zero_and_round_trips_otherwise()
    {
        Assert.DoesNotContain("repeat_fraction", Json.Serialize(Tiny()));
        var curriculum = Tiny() with { RepeatFraction = 0.1 };
        string json = Json.Serialize(curriculum);
        Assert.Contains("\"repeat_fraction\": 0.1", json);
        Assert.Equal(0.1, System.Text.Json.JsonSerializer.Deserialize<TrainingConfig>(json, Json.Options)!.RepeatFraction);
        Assert.Contains("repeat_fraction", Assert.Throws<SparseCircuitsException>(() => (Tiny() with { RepeatFraction = -1 }).Validate()).Message);
    }

    [Theory]
    [InlineData(16, 2, 2), InlineData(16, 3, 2), InlineData(16, 1, 1), InlineData(15, 2, 1), InlineData(12, 4, 4), InlineData(6, 4, 3), InlineData(2, 8, 2)]
    public void Runs_on_this_machine_split_the_batch_into_one_stream_per_thread_when_it_divides(int batch, int threads, int expected)
    {
        Assert.Equal(expected, TrainingPresets.StreamsFor(batch, threads));
        var small = TrainingPresets.ForThisMachine("small", 2048);
        Assert.Equal(TrainingPresets.StreamsFor(small.BatchSize, TorchRuntime.PlannedThreads()), small.Streams);
        Assert.Equal(1, TrainingPresets.Get("small", 2048).Streams); // the library's presets stay one batch
    }

    [Fact]
    public void A_run_written_before_a_config_field_existed_still_resumes()
    {
        using var dir = new TempDir();
        var config = Tiny(12);
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"], StopAfterStep: 10), NullProgress.Instance);
        // What an older version wrote: no matmul_precision anywhere (the field came later, at its default).
        foreach (string file in Directory.GetFiles(dir["run"], "config.json", SearchOption.AllDirectories))
        {
            string text = File.ReadAllText(file);
            Assert.Contains("\"matmul_precision\": \"fp32\",", text);
            File.WriteAllText(file, text.Replace("\"matmul_precision\": \"fp32\",", ""));
            string complete = Path.Combine(Path.GetDirectoryName(file)!, CheckpointStore.CompleteFile);
            if (!File.Exists(complete)) continue; // the run's own config.json
            // The checkpoint vouches for the file as the older version wrote it: state hash, then the manifest's digests.
            string statePath = Path.Combine(Path.GetDirectoryName(file)!, CheckpointStore.StateFile);
            var state = Json.ReadFile<TrainerState>(statePath);
            File.WriteAllText(statePath, Json.Serialize(state with { ConfigSha256 = Hashing.Sha256File(file) }));
            var manifest = Json.ReadFile<CheckpointManifest>(complete);
            var files = manifest.Files.ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (string changed in new[] { file, statePath })
                files[Path.GetFileName(changed)] = new CheckpointFileDigest(new FileInfo(changed).Length, Hashing.Sha256File(changed));
            File.WriteAllText(complete, Json.Serialize(manifest with { Files = files }));
        }
        var run = new RunDirectory(dir["run"]);
        var result = Trainer.Run(new TrainingRequest(run.ReadConfig(), data.ShardDir, dir["run"], Resume: true), NullProgress.Instance);
        Assert.Equal(12, result.Step);
    }

    [Fact]
    public void Every_sparse_matrix_has_exactly_its_annealed_number_of_nonzeros_after_every_step()
    {
        using var dir = new TempDir();
        var config = Tiny(24) with { AnnealFraction = 0.5, WeightDensity = 0.05, EmbeddingDensity = 0.3, MinPerNeuron = 4 };
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance);
        using var model = new SparseGpt(config.Model);
        var parameters = model.DescribeParameters().Where(p => p.IsSparseMatrix).ToList();
        var schedule = config.Schedule();
        foreach (var metrics in MetricsLog.Read(dir["run"]))
        {
            long stepIndex = metrics.Step - 1; // the projection of step index s used density(s)
            foreach (var p in parameters)
            {
                long numel = p.Tensor.numel();
                bool embedding = p.Kind == ParameterKind.Embedding;
                double density = L0Annealing.Density(schedule, stepIndex, embedding ? config.EmbeddingDensity : config.WeightDensity);
                long target = L0Annealing.NonzeroCount(density, numel);
                long neurons = p.NeuronAxis switch { NeuronAxis.Rows => p.Tensor.shape[0], NeuronAxis.Columns => p.Tensor.shape[1], _ => 0 };
                long expected = Math.Min(numel, Math.Max(target, embedding ? 0 : 4 * neurons));
                Assert.Equal(expected / (double)numel, metrics.Density![p.Name], 6);
            }
        }
        // After annealing the matrices sit at the j-rule floor or the target, never above.
        using var checkpoint = new CheckpointStore(dir["run/checkpoints"]).LoadLatest()!;
        Tensor cfc = checkpoint.Model["transformer.h.0.mlp.c_fc.weight"]; // (128, 32): j*rows = 512 > 0.05*4096
        Assert.Equal(4 * 128, cfc.count_nonzero().item<long>());
        Assert.All(Enumerable.Range(0, 128), r => Assert.True(cfc[r].count_nonzero().item<long>() >= 4));
        Tensor wte = checkpoint.Model["transformer.wte.weight"];
        Assert.Equal(L0Annealing.NonzeroCount(0.3, wte.numel()), wte.count_nonzero().item<long>());
    }

    [Fact]
    public void Dense_mode_never_projects()
    {
        using var dir = new TempDir();
        Trainer.Run(new TrainingRequest(Tiny(10) with { Dense = true }, data.ShardDir, dir["run"]), NullProgress.Instance);
        Assert.All(MetricsLog.Read(dir["run"]), m => Assert.All(m.Density!.Values, d => Assert.Equal(1.0, d)));
    }

    [Fact]
    public void Refuses_to_overwrite_a_run_and_to_resume_with_another_config()
    {
        using var dir = new TempDir();
        var config = Tiny(10);
        Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance);
        var again = Assert.Throws<SparseCircuitsException>(() => Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance));
        Assert.Contains("--resume", again.Message);
        var other = Assert.Throws<SparseCircuitsException>(() =>
            Trainer.Run(new TrainingRequest(config with { LearningRate = 1e-4 }, data.ShardDir, dir["run"], Resume: true), NullProgress.Instance));
        Assert.Contains("differs", other.Message);
    }

    [Fact]
    public void Shards_with_another_vocabulary_are_rejected()
    {
        using var dir = new TempDir();
        var config = Tiny(5) with { Model = Tiny().Model with { VocabSize = data.VocabSize + 1 } };
        var error = Assert.Throws<SparseCircuitsException>(() => Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance));
        Assert.Contains("vocabulary", error.Message);
        Assert.False(Directory.Exists(dir["run"]));
    }

    [Fact]
    public void A_diverging_run_stops_with_a_clear_error_and_keeps_its_last_checkpoint()
    {
        using var dir = new TempDir();
        // A huge learning rate overflows the weights within a few steps of the first checkpoint.
        var config = Tiny(40) with { LearningRate = 1e30, WarmupFraction = 0.5, GradientNormalization = GradientNormalization.None };
        var error = Assert.Throws<SparseCircuitsException>(() => Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance));
        Assert.Matches("loss became (NaN|∞|Infinity|-∞)", error.Message);
        Assert.Contains("stopped without saving", error.Message);
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(MatmulPrecision.Fp32)]
    [InlineData(MatmulPrecision.Bf16)]
    public void A_tiny_model_learns_to_copy(MatmulPrecision precision)
    {
        using var dir = new TempDir();
        var config = Tiny(300) with
        {
            BatchSize = 8, LearningRate = 1e-2, EvalInterval = 300, CheckpointInterval = 300, EvalTokens = 2048, LogInterval = 50, MatmulPrecision = precision,
        };
        var result = Trainer.Run(new TrainingRequest(config, data.ShardDir, dir["run"]), NullProgress.Instance);
        Assert.Contains($"\"matmul_precision\": \"{precision.ToString().ToLowerInvariant()}\"", File.ReadAllText(Path.Combine(dir["run"], "config.json")));
        // Half of every line's letters are random (ln 8 nats each) and half are copies; a model
        // that only counts tokens stays near the unigram loss, one that copies gets far below it.
        Assert.True(result.ValLoss < 0.6 * result.UnigramValLoss, $"val {result.ValLoss:0.000} vs unigram {result.UnigramValLoss:0.000}");
    }
}

public sealed class ModelWeightsTests
{
    [Fact]
    public void Importing_weights_of_another_config_names_the_difference()
    {
        TorchRuntime.EnsureInitialized();
        using var small = new SparseGpt(ModelPresets.Get("tiny", 300));
        using var wider = new SparseGpt(ModelPresets.Get("tiny", 300) with { DModel = 48 });
        using var learned = new SparseGpt(ModelPresets.Get("tiny", 300) with { PositionalEmbedding = PositionalEmbedding.Learned });

        var shape = Assert.Throws<SparseCircuitsException>(() => ModelWeights.Import(small, ModelWeights.Export(wider), "ckpt"));
        Assert.Contains("different model config", shape.Message);
        Assert.Contains("transformer.wte.weight", shape.Message);
        var names = Assert.Throws<SparseCircuitsException>(() => ModelWeights.Import(small, ModelWeights.Export(learned), "ckpt"));
        Assert.Contains("unexpected: transformer.wpe.weight", names.Message);

        using var copy = new SparseGpt(ModelPresets.Get("tiny", 300));
        ModelWeights.Import(copy, ModelWeights.Export(small), "ckpt");
        using var tokens = tensor(new long[] { 1, 2, 3, 4 }).view(1, 4);
        Assert.True(small.forward(tokens).equal(copy.forward(tokens)).all().item<bool>());
    }
}

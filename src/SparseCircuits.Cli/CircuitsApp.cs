using SparseCircuits.Cli.Commands;
using SparseCircuits.Core;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SparseCircuits.Cli;

/// <summary>The `circuits` command tree. Each command parses, calls the library, prints.</summary>
public static class CircuitsApp
{
    /// <summary>Table width when stdout is a file or pipe and COLUMNS is unset.</summary>
    public const int RedirectedWidth = 200;

    public static int Run(string[] args)
    {
        // Spectre falls back to 80 columns when stdout is not a terminal, wrapping wide tables
        // mid-cell in every log file; COLUMNS, when set, still decides.
        if (Console.IsOutputRedirected)
            AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : RedirectedWidth;
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("circuits");
            config.SetApplicationVersion(typeof(CircuitsApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            config.SetInterceptor(new GlobalOptionsInterceptor());
            config.PropagateExceptions(); // we print user errors ourselves, as one line
            config.UseStrictParsing(); // a mistyped option is an error, not silently ignored
            config.AddCommand<RunCommand>("run")
                .WithDescription("The whole pipeline (corpus, tokenizer, shards, training, mean cache, circuits for every task, HTML report), skipping finished stages.");
            // One branch per pipeline stage, in pipeline order.
            config.AddBranch("corpus", corpus =>
            {
                corpus.SetDescription("Build a corpus of Python files and turn it into token shards.");
                corpus.AddCommand<CorpusBuildCommand>("build")
                    .WithDescription("Collect *.py files into a deduplicated corpus split into train/val/test.");
                corpus.AddCommand<CorpusTokenizeCommand>("tokenize")
                    .WithDescription("Encode every split into a uint16 token shard.");
            });
            config.AddBranch("tokenizer", tokenizer =>
            {
                tokenizer.SetDescription("Train, inspect and use the BPE tokenizer.");
                tokenizer.AddCommand<TokenizerTrainCommand>("train")
                    .WithDescription("Train a byte-level BPE on a corpus's train split.");
                tokenizer.AddCommand<TokenizerEncodeCommand>("encode")
                    .WithDescription("Show the token ids and pieces of some text.");
                tokenizer.AddCommand<TokenizerDecodeCommand>("decode")
                    .WithDescription("Print the text of token ids.");
            });
            config.AddCommand<TrainCommand>("train")
                .WithDescription("Train a weight-sparse (or --dense) transformer on token shards; resumable.");
            config.AddCommand<SampleCommand>("sample")
                .WithDescription("Generate code from a trained model.");
            config.AddCommand<EvalCommand>("eval")
                .WithDescription("Loss (nats/token, bits/byte) of a trained model on a shard split.");
            config.AddCommand<CompareCommand>("compare")
                .WithDescription("Runs side by side: val loss (all, real code, generated), the paper tasks (test and hand-written pairs), induction gain.");
            config.AddBranch("tasks", tasks =>
            {
                tasks.SetDescription("The task suite: 20 binary next-token tasks on Python code, and custom JSONL tasks.");
                tasks.AddCommand<TasksListCommand>("list")
                    .WithDescription("Every task with an example pair and its availability under a tokenizer.");
                tasks.AddCommand<TasksShowCommand>("show")
                    .WithDescription("Pairs of a task or custom file, the cue highlighted.");
                tasks.AddCommand<TasksExportCommand>("export")
                    .WithDescription("Write a task's pairs as a custom-task JSONL file.");
                tasks.AddCommand<TasksMineCommand>("mine")
                    .WithDescription("A task's real-code variant: pairs cut from a corpus's real files, as a custom-task JSONL file.");
                tasks.AddCommand<TasksEvalCommand>("eval")
                    .WithDescription("Task loss, accuracy and logit difference of a trained model, per task.");
            });
            config.AddCommand<MeansCommand>("means")
                .WithDescription("Mean activation of every node over held-out text, stored next to the model (needed by prune).");
            config.AddCommand<PruneCommand>("prune")
                .WithDescription("Find the smallest circuit for a task at a target loss; validate it; write circuit.json.");
            config.AddCommand<ShowCommand>("show")
                .WithDescription("Print a circuit.json: size, validation, nodes and edges.");
            config.AddBranch("bridges", bridges =>
            {
                bridges.SetDescription("Bridges between a dense model and a weight-sparse one trained next to it: train, measure, steer.");
                bridges.AddCommand<BridgesTrainCommand>("train")
                    .WithDescription("Train a weight-sparse model plus bridges at every sublayer input next to a frozen dense run; resumable.");
                bridges.AddCommand<BridgesEvalCommand>("eval")
                    .WithDescription("Per bridge site: NMSE both ways, KL and next-token loss of both hybrids, next to both models' loss.");
                bridges.AddCommand<BridgesSteerCommand>("steer")
                    .WithDescription("Steer the dense model through a sparse circuit node via its bridge, with random-channel controls; table, JSON, plot.");
            });
            config.AddCommand<ReportCommand>("report")
                .WithDescription("One self-contained HTML file: model card, task table, circuit graphs, node panels, embeddings.");
            config.AddCommand<ServeCommand>("serve")
                .WithDescription("Serve the report's pages on 127.0.0.1 until Ctrl+C.");
            config.AddBranch("import", import =>
            {
                import.SetDescription("Bring models from elsewhere in as run directories.");
                import.AddCommand<ImportOfficialCommand>("official")
                    .WithDescription("One of the paper's released models (final_model.pt + beeg_config.json) as a run every command accepts.");
            });
            config.AddBranch("export", export =>
            {
                export.SetDescription("Write runs in other formats.");
                export.AddCommand<ExportOfficialCommand>("official")
                    .WithDescription("A run in the release's format: final_model.pt + beeg_config.json for its load_model.");
            });
            config.AddBranch("sweep", sweep =>
            {
                sweep.SetDescription("Train a grid of models (sparse x widths, dense baselines), then mean caches and circuits for each; resumable, here or on a Slurm cluster.");
                // `circuits sweep OPTIONS` runs `sweep run`; the named command is where --help shows the options.
                sweep.SetDefaultCommand<SweepCommand>();
                sweep.AddCommand<SweepCommand>("run")
                    .WithDescription("What `circuits sweep` runs without a command: train, mean-cache and prune every job, here (--parallel) or as Slurm jobs (--scheduler slurm).");
                sweep.AddCommand<SweepStatusCommand>("status")
                    .WithDescription("State of every job of a sweep: its files joined with Slurm's queue and records.");
            });
            config.AddCommand<FrontierCommand>("frontier")
                .WithDescription("Table, plots and sparse-vs-dense circuit-size ratio at matched loss for a sweep directory.");
        });

        // Ctrl+C (or SIGTERM) cancels the running command's token (training stops at a step
        // boundary, serve closes its socket); a second one kills the process as usual.
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (interrupt.IsCancellationRequested) return;
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (kill, service managers) stops the same way instead of killing mid-write.
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, signal =>
        {
            if (interrupt.IsCancellationRequested) return;
            signal.Cancel = true;
            interrupt.Cancel();
        });
        ConsoleProgress.Cancellation = interrupt.Token;
        try
        {
            return app.Run(AcceptDoubleDashN(args), interrupt.Token);
        }
        catch (SparseCircuitsException e)
        {
            return Fail(e.Message);
        }
        catch (CommandParseException e)
        {
            return Fail(e.Message);
        }
        catch (CommandRuntimeException e)
        {
            return Fail(ConversionMessage(e.Message, args) ?? e.Message);
        }
        catch (OperationCanceledException)
        {
            return Fail("interrupted");
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>
    /// The tasks commands document <c>--n N</c>; Spectre allows only one-letter short options
    /// (<c>-n</c>), so <c>--n</c> is read as <c>--count</c>.
    /// </summary>
    static string[] AcceptDoubleDashN(string[] args) =>
        args.Length > 0 && args[0] == "tasks"
            ? args.Select(a => a == "--n" ? "--count" : a.StartsWith("--n=", StringComparison.Ordinal) ? "--count=" + a[4..] : a).ToArray()
            : args;

    /// <summary>
    /// Spectre reports a value it cannot convert as "Failed to convert 'abc' to Nullable`1."; say
    /// which option got it and what it takes instead.
    /// </summary>
    static string? ConversionMessage(string message, string[] args)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"^Failed to convert '(.*)' to (.+)\.$");
        if (!match.Success) return null;
        string value = match.Groups[1].Value;
        int at = Array.IndexOf(args, value);
        string option = at > 0 && args[at - 1].StartsWith('-') ? args[at - 1] : "an option";
        string type = match.Groups[2].Value;
        string expected = type is "Int32" or "Int64" or "UInt64" ? "a whole number"
            : type.Contains("Nullable") || type is "Double" or "Single" ? "a number"
            : type == nameof(Training.CheckpointChoice) ? "best, latest or a step the run kept (e.g. 1750 or step_001750)" : $"a {type} value";
        return $"{option} must be {expected} (got '{value}')";
    }

    static int Fail(string message)
    {
        // One line on stderr, no markup parsing of user-controlled text.
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}

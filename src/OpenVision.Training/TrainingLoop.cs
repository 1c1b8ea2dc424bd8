using OpenVision.IO;
using System.Diagnostics;
using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Models;
using OpenVision.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training;

/// <summary>Runs a training recipe for either objective (<see cref="TrainConfig.Objective"/>: OpenVision's CLIPS losses or
/// OpenVision 2's caption-only loss): stages of increasing resolution, each with a fresh AdamW and a warmup + cosine
/// schedule, exact gradient accumulation (the step's gradients are the whole batch's), JSONL metrics and resumable
/// checkpoints. A run whose output folder
/// already holds a checkpoint continues from it and produces the same parameters as an uninterrupted run.
/// With a <see cref="IDistributedContext"/> of N ranks it trains data-parallel: rank r reads its share of every global
/// batch (<see cref="RankBatches"/>), the contrastive loss (if any) sees the global batch, gradients are averaged before each
/// step, parameters start as rank 0's, and only rank 0 writes metrics and checkpoints (which do not depend on N, so a
/// run may resume with a different number of ranks). Every rank needs the output folder (shared storage) to resume.</summary>
/// <param name="config">The run.</param>
/// <param name="data">The batch stream.</param>
/// <param name="outputFolder">Metrics, checkpoints and the final model go here.</param>
/// <param name="modelFactory">Builds the initial model; null uses <see cref="CreateModel"/> on the config.</param>
/// <param name="distributed">The ranks of a data-parallel run (<see cref="DistributedContext.FromEnvironment"/>); null: one process.</param>
public sealed class TrainingLoop(TrainConfig config, ITrainingData data, string outputFolder, Func<TrainingModel>? modelFactory = null,
    IDistributedContext? distributed = null)
{
    private readonly IDistributedContext ranks = distributed ?? SingleProcessContext.Instance;

    private static readonly JsonSerializerOptions LineOptions = new(TrainConfig.JsonOptions) { WriteIndented = false };

    /// <summary>The metrics file (one <see cref="StepMetrics"/> JSON object per line).</summary>
    public string MetricsPath => Path.Combine(outputFolder, "metrics.jsonl");

    /// <summary>Builds the model a config describes: its objective's model (<see cref="Trainer.CreateModel"/> for CLIPS,
    /// <see cref="CreateCaptioningModel"/> for captioning).</summary>
    public static TrainingModel CreateModel(TrainConfig config) => config.IsCaptioning ? CreateCaptioningModel(config) : Trainer.CreateModel(config);

    /// <summary>The caption-only model of a config: the model's vision tower (vision-only; its weights when
    /// <see cref="TrainConfig.InitFromWeights"/>) and the configured or default OpenVision 2 decoder.</summary>
    public static CaptioningTrainingModel CreateCaptioningModel(TrainConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        OpenVisionModel encoder;
        if (config.InitFromWeights)
        {
            using var full = ModelFactory.Load(config.Model).Model;
            encoder = new OpenVisionModel(CaptioningTrainingModel.VisionOnly(full.Config));
            using var _ = torch.no_grad();
            foreach (var ((_, target), (_, source)) in encoder.Visual.named_parameters().Zip(full.Visual.named_parameters())) target.copy_(source);
        }
        else encoder = ModelFactory.Create(CaptioningTrainingModel.VisionOnly(ModelFactory.Resolve(config.Model, configOnly: true).Config));
        var decoder = (config.CaptionDecoder ?? CaptioningTrainingModel.DefaultDecoder(encoder.Visual.Config)) with { VisionWidth = encoder.Visual.Config.Width };
        return new CaptioningTrainingModel(encoder, decoder, config.LossWeights.Caption);
    }

    /// <summary>Trains until every stage is done (or <paramref name="cancellationToken"/> fires, after a checkpoint).</summary>
    /// <param name="progress">Receives every step's metrics.</param>
    /// <param name="onStageEnd">Called after each stage with the model, e.g. to evaluate it.</param>
    /// <param name="cancellationToken">Stops the run at the next step boundary.</param>
    public TrainingModel Run(IProgress<TrainingProgress>? progress = null, Action<int, TrainingModel>? onStageEnd = null,
        CancellationToken cancellationToken = default)
    {
        config.Validate();
        foreach (var (i, s) in config.Stages.Index())
            if (s.BatchSize % (config.GradientAccumulation * ranks.WorldSize) != 0)
                throw new ArgumentException($"stage {i}: batch_size {s.BatchSize} is not divisible by gradient_accumulation {config.GradientAccumulation} × {ranks.WorldSize} ranks");
        bool chief = ranks.Rank == 0;
        Directory.CreateDirectory(outputFolder);
        if (config.Threads > 0) torch.set_num_threads(config.Threads);
        torch.manual_seed(config.Seed);
        var model = modelFactory?.Invoke() ?? CreateModel(config);
        try
        {
            var checkpoints = new TrainingCheckpoints(outputFolder);
            string? resumeFrom = checkpoints.Latest;
            RequireSameRun(resumeFrom);
            var state = resumeFrom is null ? new TrainingState(0, 0, 0, 0, DataPosition.Start, "") : TrainingCheckpoints.LoadModel(resumeFrom, model);
            // Identical starting points whatever each rank's seed or file view; the optimizer state comes from the
            // same checkpoint file on every rank and is updated with identical averaged gradients thereafter.
            if (ranks.WorldSize > 1)
                ranks.Broadcast([.. model.NamedParameters().Select(p => (Tensor)p.Parameter), .. model.FloatingBuffers()]);
            if (chief)
            {
                TrimMetrics(state.GlobalStep);
                AtomicFile.WriteAllText(Path.Combine(outputFolder, "train_config.json"), JsonSerializer.Serialize(config, TrainConfig.JsonOptions));
            }
            long totalSteps = config.Stages.Sum(s => (long)s.Steps);
            var clock = Stopwatch.StartNew();
            long stepsThisRun = 0;

            for (int stage = state.Stage; stage < config.Stages.Count; stage++)
            {
                var spec = config.Stages[stage];
                int firstStep = stage == state.Stage ? state.StepInStage : 0;
                if (firstStep >= spec.Steps) { onStageEnd?.Invoke(stage, model); continue; }
                model.Train();
                using var optimizer = config.Optimizer.Create(ParamGroups.Split(model));
                if (firstStep > 0 && resumeFrom is not null) TrainingCheckpoints.LoadOptimizer(resumeFrom, optimizer);
                var schedule = LrSchedule.WarmupCosine(spec.PeakLr, spec.WarmupSteps, spec.Steps);
                // Global micro-batch; each rank reads micro / N of it. The stream ignores the token: a stop inside a step
                // would end the run without a checkpoint (and, with several ranks, leave the others waiting), so the
                // token is read after each step, which then saves a checkpoint and stops.
                int micro = spec.BatchSize / config.GradientAccumulation;
                using var batches = RankBatches.Stream(data, spec.ImageSize, micro, state.Data, ranks.Rank, ranks.WorldSize,
                    CancellationToken.None).GetEnumerator();
                var trainStep = new TrainStep(model, optimizer, ranks, config.GradientAccumulation);

                for (int step = firstStep; step < spec.Steps; step++)
                {
                    var stepClock = Stopwatch.StartNew();
                    var communicationBefore = ranks.CommunicationTime;
                    double lr = schedule.At(step);
                    var result = trainStep.Run(batches, lr, new TrainStepContext(state.GlobalStep, config.Seed, config.KeepRatioOf(stage)), cancellationToken);
                    bool stop = result.Stop;
                    if (!double.IsFinite(result.Total)) throw new InvalidOperationException($"the loss became {result.Total} at step {state.GlobalStep + 1}; lower the learning rate");

                    state = state with { Stage = stage, StepInStage = step + 1, GlobalStep = state.GlobalStep + 1, SamplesSeen = state.SamplesSeen + spec.BatchSize, Data = result.Position };
                    stepsThisRun++;
                    var metrics = new StepMetrics(state.GlobalStep, stage, spec.ImageSize, state.SamplesSeen, lr, result.Total, result.Contrastive, result.Caption,
                        model.Temperature, spec.BatchSize / stepClock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds,
                        (ranks.CommunicationTime - communicationBefore).TotalSeconds);
                    bool last = step == spec.Steps - 1;
                    if (chief)
                    {
                        File.AppendAllText(MetricsPath, JsonSerializer.Serialize(metrics, LineOptions) + "\n");
                        double eta = clock.Elapsed.TotalSeconds / stepsThisRun * (totalSteps - state.GlobalStep);
                        progress?.Report(new TrainingProgress(metrics, totalSteps, eta));
                        if (ranks.WorldSize == 1) stop = cancellationToken.IsCancellationRequested;   // may fire during the report
                        if (last || state.GlobalStep % config.CheckpointEverySteps == 0 || stop)
                            checkpoints.Save(model, optimizer, state with { TorchRngState = TrainingCheckpoints.CaptureRng() });
                    }
                    // The stop decision was all-reduced, so every rank leaves at the same step.
                    if (stop) throw new OperationCanceledException("training was cancelled", cancellationToken);
                }
                onStageEnd?.Invoke(stage, model);
            }
            model.Train(false);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // Resuming continues the run in the folder: another config would mix two runs' metrics and checkpoints. The
    // thread count is how the run uses the machine, not what it trains, so it may change between resumes.
    private void RequireSameRun(string? resumeFrom)
    {
        string path = Path.Combine(outputFolder, "train_config.json");
        if (resumeFrom is null || !File.Exists(path)) return;
        var earlier = JsonSerializer.Deserialize<TrainConfig>(File.ReadAllText(path), TrainConfig.JsonOptions)
            ?? throw new InvalidDataException($"{path}: empty");
        string Canonical(TrainConfig c) => JsonSerializer.Serialize(c with { Threads = 0 }, TrainConfig.JsonOptions);
        if (Canonical(earlier) != Canonical(config))
            throw new ArgumentException($"{outputFolder} holds a run of another config ({path} differs from this one); "
                + "resume with that config, or give a new output folder");
    }

    // A resumed run continues the curve: drop lines written after the checkpoint it resumes from.
    private void TrimMetrics(long lastStep)
    {
        if (!File.Exists(MetricsPath)) return;
        var keep = File.ReadLines(MetricsPath)
            .Where(l => l.Length > 0 && JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64() <= lastStep).ToList();
        AtomicFile.Commit(MetricsPath, temp => File.WriteAllLines(temp, keep));   // a crash here must not lose the curve
    }
}

using System.Diagnostics;
using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Models;
using OpenVision.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training;

/// <summary>Runs OpenVision's recipe: stages of increasing resolution, each with a fresh AdamW and a warmup + cosine
/// schedule, CLIPS losses, gradient accumulation, JSONL metrics and resumable checkpoints. A run whose output folder
/// already holds a checkpoint continues from it and produces the same parameters as an uninterrupted run.</summary>
/// <param name="config">The run.</param>
/// <param name="data">The batch stream.</param>
/// <param name="outputFolder">Metrics, checkpoints and the final model go here.</param>
/// <param name="modelFactory">Builds the initial model; null uses <see cref="CreateModel"/> on the config.</param>
public sealed class Trainer(TrainConfig config, ITrainingData data, string outputFolder, Func<ClipsTrainingModel>? modelFactory = null)
{
    private static readonly JsonSerializerOptions LineOptions = new(TrainConfig.JsonOptions) { WriteIndented = false };

    /// <summary>The metrics file (one <see cref="StepMetrics"/> JSON object per line).</summary>
    public string MetricsPath => Path.Combine(outputFolder, "metrics.jsonl");

    /// <summary>Builds the model a config describes: its architecture, optionally its weights, and the family's decoder.</summary>
    public static ClipsTrainingModel CreateModel(TrainConfig config)
    {
        OpenVisionModel clip;
        if (config.InitFromWeights) clip = ModelFactory.Load(config.Model).Model;
        else clip = ModelFactory.Create(ModelFactory.Resolve(config.Model, configOnly: true).Config);
        var decoder = config.Decoder ?? DecoderConfig.For(clip.Config) with { QueryTokens = config.CaptionTokens };
        if (config.DecoderLayers is { } layers) decoder = decoder with { Layers = layers };
        return new ClipsTrainingModel(clip, decoder, config.LossWeights);
    }

    /// <summary>Trains until every stage is done (or <paramref name="cancellationToken"/> fires, after a checkpoint).</summary>
    /// <param name="progress">Receives every step's metrics.</param>
    /// <param name="onStageEnd">Called after each stage with the model, e.g. to evaluate it.</param>
    /// <param name="cancellationToken">Stops the run at the next step boundary.</param>
    public ClipsTrainingModel Run(IProgress<TrainingProgress>? progress = null, Action<int, ClipsTrainingModel>? onStageEnd = null,
        CancellationToken cancellationToken = default)
    {
        config.Validate();
        Directory.CreateDirectory(outputFolder);
        if (config.Threads > 0) torch.set_num_threads(config.Threads);
        torch.manual_seed(config.Seed);
        var model = modelFactory?.Invoke() ?? CreateModel(config);
        try
        {
            var checkpoints = new TrainingCheckpoints(outputFolder);
            string? resumeFrom = checkpoints.Latest;
            var state = resumeFrom is null ? new TrainingState(0, 0, 0, 0, DataPosition.Start, "") : TrainingCheckpoints.LoadModel(resumeFrom, model);
            TrimMetrics(state.GlobalStep);
            File.WriteAllText(Path.Combine(outputFolder, "train_config.json"), JsonSerializer.Serialize(config, TrainConfig.JsonOptions));
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
                int micro = spec.BatchSize / config.GradientAccumulation;
                using var batches = data.Stream(spec.ImageSize, micro, state.Data, cancellationToken).GetEnumerator();
                var position = state.Data;

                for (int step = firstStep; step < spec.Steps; step++)
                {
                    var stepClock = Stopwatch.StartNew();
                    double lr = schedule.At(step);
                    OptimizerSteps.SetLearningRate(optimizer, lr);
                    OptimizerSteps.ZeroGrad(optimizer);
                    double contrastive = 0, caption = 0, total = 0;
                    for (int m = 0; m < config.GradientAccumulation; m++)
                    {
                        if (!batches.MoveNext()) throw new InvalidOperationException("the training data stream ended early");
                        using var batch = batches.Current;
                        position = batch.Position;
                        using var scope = NewDisposeScope();
                        using var losses = model.Forward(batch.Pixels, batch.AltTextIds, batch.SubCaptionIds, batch.CaptionIds);
                        // Each micro-batch's mean loss is averaged: gradients equal the mean over the effective batch
                        // for the caption loss; contrastive negatives come from within each micro-batch.
                        (losses.Total / config.GradientAccumulation).backward();
                        var (c, cap, t) = losses.ToDoubles();
                        contrastive += c / config.GradientAccumulation;
                        caption += cap / config.GradientAccumulation;
                        total += t / config.GradientAccumulation;
                    }
                    using (var scope = NewDisposeScope()) optimizer.step();
                    if (!double.IsFinite(total)) throw new InvalidOperationException($"the loss became {total} at step {state.GlobalStep + 1}; lower the learning rate");

                    state = state with { Stage = stage, StepInStage = step + 1, GlobalStep = state.GlobalStep + 1, SamplesSeen = state.SamplesSeen + spec.BatchSize, Data = position };
                    stepsThisRun++;
                    var metrics = new StepMetrics(state.GlobalStep, stage, spec.ImageSize, state.SamplesSeen, lr, total, contrastive, caption,
                        model.Clip.LogitScale, spec.BatchSize / stepClock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds);
                    File.AppendAllText(MetricsPath, JsonSerializer.Serialize(metrics, LineOptions) + "\n");
                    double eta = clock.Elapsed.TotalSeconds / stepsThisRun * (totalSteps - state.GlobalStep);
                    progress?.Report(new TrainingProgress(metrics, totalSteps, eta));

                    bool last = step == spec.Steps - 1;
                    if (last || state.GlobalStep % config.CheckpointEverySteps == 0 || cancellationToken.IsCancellationRequested)
                        checkpoints.Save(model, optimizer, state with { TorchRngState = TrainingCheckpoints.CaptureRng() });
                    cancellationToken.ThrowIfCancellationRequested();
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

    // A resumed run continues the curve: drop lines written after the checkpoint it resumes from.
    private void TrimMetrics(long lastStep)
    {
        if (!File.Exists(MetricsPath)) return;
        var keep = File.ReadLines(MetricsPath)
            .Where(l => l.Length > 0 && JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64() <= lastStep).ToList();
        File.WriteAllLines(MetricsPath, keep);
    }
}

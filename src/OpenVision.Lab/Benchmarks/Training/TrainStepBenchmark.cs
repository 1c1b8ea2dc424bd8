using System.Diagnostics;
using OpenVision.Models;
using OpenVision.Training;
using OpenVision.Training.Models;
using OpenVision.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>Times one full CLIPS training step as <see cref="Trainer"/> runs it: both towers (two texts per image),
/// the caption decoder, both losses, <c>backward()</c> and the AdamW update, on one fixed batch. With an export
/// folder it also writes the initial weights, the batch and the settings (<see cref="TrainStepExport"/>) for the
/// PyTorch reference step in <c>benchmarks/pytorch/train_step.py</c>.</summary>
public static class TrainStepBenchmark
{
    /// <summary>Builds the model from <see cref="TrainStepOptions.Seed"/>, runs warm-up and timed steps and returns medians.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="exportFolder">Where to write the reference inputs and settings; null writes nothing.</param>
    /// <param name="progress">Receives every step.</param>
    public static TrainStepResult Run(TrainStepOptions options, string? exportFolder = null, IProgress<TrainStepProgress>? progress = null)
    {
        options.Validate();
        if (options.Threads > 0) torch.set_num_threads(options.Threads);
        torch.manual_seed(options.Seed);
        using var model = new ClipsTrainingModel(new OpenVisionModel(options.Model), options.Decoder, options.LossWeights);
        model.Train();
        using var batch = TrainStepBatch.Create(options.BatchSize, options.ImageSize, options.Model.TextCfg.ContextLength, options.CaptionTokens, options.Seed);
        if (exportFolder is not null) TrainStepExport.WriteInputs(exportFolder, options, model, batch);

        using var optimizer = options.Optimizer.Create(ParamGroups.Split(model), options.LearningRate);
        int total = options.WarmupSteps + options.Steps;
        var forward = new List<double>();
        var backward = new List<double>();
        var update = new List<double>();
        var losses = new List<StepLosses>();
        for (int step = 0; step < total; step++)
        {
            using var scope = NewDisposeScope();
            long start = Stopwatch.GetTimestamp();
            using var loss = model.Forward(batch.Pixels, batch.AltTextIds, batch.SubCaptionIds, batch.CaptionIds);
            long forwardDone = Stopwatch.GetTimestamp();
            loss.Total.backward();
            long backwardDone = Stopwatch.GetTimestamp();
            optimizer.step();
            OptimizerSteps.ZeroGrad(optimizer);
            long end = Stopwatch.GetTimestamp();

            var (c, cap, t) = loss.ToDoubles();
            losses.Add(new StepLosses(t, c, cap));
            if (!double.IsFinite(t)) throw new InvalidOperationException($"the loss became {t} at step {step + 1}; lower the learning rate");
            bool warmup = step < options.WarmupSteps;
            if (!warmup)
            {
                forward.Add(Stopwatch.GetElapsedTime(start, forwardDone).TotalMilliseconds);
                backward.Add(Stopwatch.GetElapsedTime(forwardDone, backwardDone).TotalMilliseconds);
                update.Add(Stopwatch.GetElapsedTime(backwardDone, end).TotalMilliseconds);
            }
            progress?.Report(new TrainStepProgress(step + 1, total, warmup, Stopwatch.GetElapsedTime(start, end).TotalMilliseconds, t));
        }

        var steps = forward.Select((f, i) => f + backward[i] + update[i]).ToList();
        double stepMs = Median(steps);
        long parameters = model.NamedParameters().Sum(p => p.Parameter.numel());
        var result = new TrainStepResult(options.Model.Name, options.BatchSize, options.ImageSize, options.CaptionTokens, options.Steps,
            options.WarmupSteps, torch.get_num_threads(), parameters, stepMs, options.BatchSize * 1000 / stepMs,
            Median(forward), Median(backward), Median(update), losses[0], [.. losses.Select(l => l.Total)],
            Process.GetCurrentProcess().PeakWorkingSet64 >> 20);
        if (exportFolder is not null) TrainStepExport.WriteSettings(exportFolder, options, result);
        return result;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

using System.Diagnostics;
using OpenVision.Captioning;
using OpenVision.Configs;
using OpenVision.Lab.Datasets;
using OpenVision.Lab.Demo;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Training.Models;
using OpenVision.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>OpenVision (CLIPS) against OpenVision 2's caption-only objective at keep ratios 1.0, 0.35 and 0.25 on the
/// same vision tower: training step time, samples/s and peak memory per setting (<see cref="MeasureSpeed"/>), then the
/// quality each reaches on Fashion-MNIST in the same training time (<see cref="MeasureQuality"/>).</summary>
public static class TrainObjectivesBenchmark
{
    /// <summary>Times <paramref name="steps"/> steps (after one warm-up step) of every variant on one fixed batch, in
    /// <paramref name="repeats"/> rounds that interleave the variants (in rotated order), so that a change in the
    /// machine's load hits all of them. Each block builds a fresh model and AdamW and runs <see cref="TrainStep"/> as the trainer does.</summary>
    public static IReadOnlyList<ObjectiveSpeed> MeasureSpeed(TrainObjectivesSetting setting, int steps, int repeats, int seed = 0,
        IProgress<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(setting);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        var variants = TrainObjectiveVariant.All;
        var times = variants.ToDictionary(v => v, _ => new List<List<double>>());
        var peaks = variants.ToDictionary(v => v, _ => 0L);
        var parameters = new Dictionary<TrainObjectiveVariant, long>();
        for (int r = 0; r < repeats; r++)
            // Each round starts one variant later, so that no variant always runs first (or last) in a round.
            foreach (var variant in variants.Skip(r % variants.Count).Concat(variants.Take(r % variants.Count)))
            {
                var (blockTimes, peak, count) = Block(setting, variant, steps, seed);
                times[variant].Add(blockTimes);
                peaks[variant] = Math.Max(peaks[variant], peak);
                parameters[variant] = count;
                log?.Report($"{setting.Name}, {variant.Name}, round {r + 1}/{repeats}: median step {Median(blockTimes):F0} ms");
            }
        return [.. variants.Select(v =>
        {
            double median = Median([.. times[v].SelectMany(t => t)]);
            var perRound = times[v].Select(Median).ToList();
            return new ObjectiveSpeed(setting.Name, v.Name, median, perRound.Min(), perRound.Max(), setting.BatchSize * 1000 / median, peaks[v] >> 20, parameters[v]);
        })];
    }

    /// <summary>Trains every variant in the demo's setting for about <paramref name="budget"/> (the step count planned
    /// from <paramref name="speeds"/>), then probes the encoder (linear probe on the first <paramref name="probeTrainImages"/>
    /// training images, and 10-shot, both tested on the first <paramref name="testImages"/> test images) and captions
    /// the first <paramref name="captionImages"/> test images.</summary>
    /// <param name="shardPattern">Fashion-MNIST training shards (<see cref="FashionMnistDemo.PrepareShards"/>).</param>
    /// <param name="files">Fashion-MNIST's IDX files.</param>
    /// <param name="workFolder">Runs and saved models go here.</param>
    /// <param name="speeds">The demo setting's <see cref="MeasureSpeed"/> result.</param>
    /// <param name="budget">Training time of each variant.</param>
    /// <param name="probeTrainImages">Training images the probes learn from.</param>
    /// <param name="testImages">Test images the probes are scored on.</param>
    /// <param name="captionImages">Test images to caption.</param>
    /// <param name="seed">Seed of every run.</param>
    /// <param name="log">One line per finished run.</param>
    public static IReadOnlyList<ObjectiveQuality> MeasureQuality(string shardPattern, FashionMnistFiles files, string workFolder, IReadOnlyList<ObjectiveSpeed> speeds,
        TimeSpan budget, int probeTrainImages, int testImages, int captionImages, int seed = 0, IProgress<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var setting = TrainObjectivesSetting.Demo;
        Directory.CreateDirectory(workFolder);
        string modelConfig = Path.Combine(workFolder, "model_config.json");
        File.WriteAllText(modelConfig, ConfigJson.ToHubJson(setting.Model));
        var data = FashionMnistDemo.Data(shardPattern, seed, setting.CaptionTokens);
        var trainSource = LabeledImageSource.First(new IdxLabeledSource(files.TrainImages, files.TrainLabels, FashionMnist.PromptNames, "fashion-mnist-train"), probeTrainImages);
        var testSource = FashionMnistZeroShot.TestSource(files, testImages);
        var test = FashionMnist.ReadTest(Path.GetDirectoryName(files.TestImages));
        var results = new List<ObjectiveQuality>();
        foreach (var variant in TrainObjectiveVariant.All)
        {
            double stepMs = speeds.Single(s => s.Variant == variant.Name).StepMs;
            int steps = Math.Max(8, (int)(budget.TotalMilliseconds / stepMs));
            long samples = (long)steps * setting.BatchSize;
            var config = new TrainConfig
            {
                Model = modelConfig,
                Objective = variant.Objective,
                KeepRatio = variant.KeepRatio,
                CaptionTokens = setting.CaptionTokens,
                Decoder = variant.IsCaptioning ? null : setting.ClipsDecoder,
                CaptionDecoder = variant.IsCaptioning ? setting.CaptionDecoder : null,
                Seed = seed,
                CheckpointEverySteps = int.MaxValue,
                // One stage at the demo's final resolution and its first stage's peak rate, for every objective.
                Stages = [new TrainStage { ImageSize = setting.ImageSize, BatchSize = setting.BatchSize, Samples = samples,
                    PeakLr = FashionMnistDemo.DefaultLowResPeakLr, WarmupSamples = Math.Min(4_000, samples / 4) }],
            };
            string folder = Path.Combine(workFolder, variant.Name.Replace(' ', '-'));
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            var loop = new TrainingLoop(config, data, folder);
            var clock = Stopwatch.StartNew();
            double finalLoss = double.NaN;
            using (var model = loop.Run(new Callback<TrainingProgress>(p => finalLoss = p.Last.Loss)))
            {
                clock.Stop();
                model.SaveModel(Path.Combine(folder, "model"));
            }
            string saved = Path.Combine(folder, "model");
            double probe, tenShot;
            using (var encoder = OpenVisionEncoder.Load(saved))
            {
                probe = new LinearProbeEvaluator(trainSource, testSource, new LinearProbeOptions { Seed = seed }).Evaluate(encoder).Tally.Top1;
                tenShot = new LinearProbeEvaluator(trainSource, testSource, new LinearProbeOptions { Seed = seed, KShot = 10 }).Evaluate(encoder).Tally.Top1;
            }
            IReadOnlyList<string> captions = [];
            if (variant.IsCaptioning)
            {
                using var captioner = ImageCaptioner.Load(saved);
                captions = [.. captioner.CaptionImages([.. Enumerable.Range(0, captionImages).Select(test.Image)], new CaptionOptions { MaxTokens = 24 }).Select(c => c.Text)];
            }
            var quality = new ObjectiveQuality(variant.Name, steps, clock.Elapsed.TotalSeconds, finalLoss, probe, tenShot, captions);
            results.Add(quality);
            log?.Report($"{variant.Name}: {steps} steps in {quality.TrainingSeconds:F0} s, loss {finalLoss:F3}, linear probe {probe:P1}, 10-shot {tenShot:P1}");
        }
        return results;
    }

    private static (List<double> Times, long PeakBytes, long Parameters) Block(TrainObjectivesSetting setting, TrainObjectiveVariant variant, int steps, int seed)
    {
        ProcessMemory.ResetPeak();
        long before = ProcessMemory.CurrentBytes();
        torch.manual_seed(seed);
        using var model = setting.CreateModel(variant);
        model.Train();
        long parameters = model.NamedParameters().Where(p => p.Parameter.requires_grad).Sum(p => p.Parameter.numel());
        using var optimizer = new AdamWConfig().Create(ParamGroups.Split(model));
        var step = new TrainStep(model, optimizer, SingleProcessContext.Instance, 1);
        using var template = TrainStepBatch.Create(setting.BatchSize, setting.ImageSize, setting.Model.TextCfg.ContextLength, setting.CaptionTokens, seed);
        using var batches = Copies(template).GetEnumerator();
        var times = new List<double>();
        for (int i = 0; i <= steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step.Run(batches, 1e-4, new TrainStepContext(i, seed, variant.KeepRatio));
            if (i > 0) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);   // step 0 warms up
        }
        return (times, ProcessMemory.PeakBytes() - before, parameters);
    }

    // The step disposes what it reads: hand it copies of the one batch.
    private static IEnumerable<TrainingBatch> Copies(TrainingBatch batch)
    {
        while (true)
            yield return batch with
            {
                Pixels = batch.Pixels.clone(), AltTextIds = batch.AltTextIds.clone(), SubCaptionIds = batch.SubCaptionIds.clone(), CaptionIds = batch.CaptionIds.clone(),
            };
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private sealed class Callback<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}

using System.Diagnostics;
using OpenVision.Configs;
using OpenVision.Lab.Datasets;
using OpenVision.Lab.Plotting;
using OpenVision.Pipelines;
using OpenVision.Training;
using OpenVision.ZeroShot;

namespace OpenVision.Lab.Demo;

/// <summary>Settings of one demo run.</summary>
public sealed record DemoOptions
{
    /// <summary>Everything the demo writes goes here (shards, checkpoints, metrics, the model).</summary>
    public string OutputFolder { get; init; } = "openvision-demo";

    /// <summary>Fashion-MNIST folder; null finds Debian's package or $OPENVISION_FASHION_MNIST.</summary>
    public string? DataFolder { get; init; }

    /// <summary>Passes over the training set at low resolution.</summary>
    public double LowResEpochs { get; init; } = FashionMnistDemo.DefaultLowResEpochs;

    /// <summary>Passes over the training set at the final resolution.</summary>
    public double HighResEpochs { get; init; } = FashionMnistDemo.DefaultHighResEpochs;

    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Pixels per side of the low-resolution stage.</summary>
    public int LowResImageSize { get; init; } = FashionMnistDemo.LowResImageSize;

    /// <summary>Pixels per side of the final stage (the saved model's resolution).</summary>
    public int HighResImageSize { get; init; } = FashionMnistDemo.HighResImageSize;

    /// <summary>Peak learning rate of the low-resolution stage.</summary>
    public double LowResPeakLr { get; init; } = FashionMnistDemo.DefaultLowResPeakLr;

    /// <summary>Peak learning rate of the final stage.</summary>
    public double HighResPeakLr { get; init; } = FashionMnistDemo.DefaultHighResPeakLr;

    /// <summary>Seed.</summary>
    public int Seed { get; init; }

    /// <summary>Test images to evaluate (null: all 10,000).</summary>
    public int? EvalLimit { get; init; }
}

/// <summary>What a demo run produced.</summary>
/// <param name="Top1">Zero-shot top-1 accuracy on the evaluated test images.</param>
/// <param name="EvaluatedImages">How many test images were evaluated.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="TotalSeconds">Wall time of the whole run (conversion, training, evaluation).</param>
/// <param name="ModelFolder">The saved open_clip-format model.</param>
/// <param name="Examples">A few test images with their true and predicted classes.</param>
/// <param name="PerStageTop1">Zero-shot top-1 after each stage (on the evaluated images).</param>
public sealed record DemoResult(double Top1, int EvaluatedImages, double TrainSeconds, double TotalSeconds, string ModelFolder,
    IReadOnlyList<(int Index, string Truth, IReadOnlyList<ClassScore> Top)> Examples, IReadOnlyList<double> PerStageTop1);

/// <summary>Runs the demo end to end: shards, training, zero-shot evaluation, saving, examples.</summary>
public static class DemoRun
{
    /// <summary>Runs it; <paramref name="log"/> receives one-line status messages, <paramref name="training"/> every step.</summary>
    public static DemoResult Run(DemoOptions options, IProgress<string>? log = null, IProgress<TrainingProgress>? training = null,
        IProgress<ProgressReport>? conversion = null, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(options.OutputFolder);
        var train = FashionMnist.ReadTrain(options.DataFolder);
        var test = FashionMnist.ReadTest(options.DataFolder);
        var testFiles = FashionMnist.Locate(options.DataFolder);
        var quickTest = FashionMnistZeroShot.TestSource(testFiles, limit: 2000);
        log?.Report($"Fashion-MNIST: {train.Count} training and {test.Count} test images");

        var shards = FashionMnistDemo.PrepareShards(train, Path.Combine(options.OutputFolder, "shards"), options.Seed, conversion);
        log?.Report($"{(shards.Reused ? "reusing" : "wrote")} {shards.Shards.Count} WebDataset shards ({shards.Samples} samples): {shards.Pattern}");

        string configPath = Path.Combine(options.OutputFolder, "model_config.json");
        File.WriteAllText(configPath, ConfigJson.ToHubJson(FashionMnistDemo.ModelConfigFor(options)));
        var config = FashionMnistDemo.TrainConfig(configPath, options, train.Count);
        var data = FashionMnistDemo.Data(shards.Pattern, options.Seed, config.CaptionTokens);
        var perStage = new List<double>();
        var trainClock = Stopwatch.StartNew();
        var trainer = new Trainer(config, data, Path.Combine(options.OutputFolder, "run"));
        using var model = trainer.Run(training, (stage, m) =>
        {
            m.Train(false);
            var quick = FashionMnistZeroShot.Evaluate(m.Clip, quickTest, config.Stages[stage].ImageSize, cancellationToken);
            perStage.Add(quick.Top1);
            log?.Report($"after stage {stage + 1} ({config.Stages[stage].ImageSize} px): zero-shot top-1 {quick.Top1:P1} on 2,000 test images ({quick.Throughput?.ImagesPerSecond:F0} images/s)");
            m.Train(true);
        }, cancellationToken);
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        foreach (var plot in TrainingPlots.Write(trainer.MetricsPath)) log?.Report($"plot: {plot}");
        if (data.SamplesWithoutCaption > 0) log?.Report($"{data.SamplesWithoutCaption} samples had no synthetic caption (both texts from the alt-text)");

        int finalSize = config.Stages[^1].ImageSize;
        var final = FashionMnistZeroShot.Evaluate(model.Clip, FashionMnistZeroShot.TestSource(testFiles, options.EvalLimit), finalSize, cancellationToken);
        log?.Report($"zero-shot evaluation at {finalSize} px: {final.Throughput?.Format()}");
        string modelFolder = Path.Combine(options.OutputFolder, "model");
        ModelFactory.Save(model.Clip, modelFolder);

        using var encoder = OpenVisionEncoder.FromModel(ModelFactory.Load(modelFolder).Model);
        using var classifier = encoder.CreateClassifier(FashionMnist.PromptNames, FashionMnistZeroShot.Templates);
        int[] picks = [0, 1, 2, 3, 4, 5];
        using var features = encoder.EncodeImages(picks.Select(test.Image).ToList());
        var top = classifier.Top(features, 3);
        var examples = picks.Select((index, i) => (index, FashionMnist.PromptNames[test.Labels[index]], top[i])).ToList();
        return new DemoResult(final.Top1, (int)final.Tally.Samples, trainSeconds, total.Elapsed.TotalSeconds, modelFolder, examples, perStage);
    }
}

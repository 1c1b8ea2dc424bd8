using OpenVision.Configs;
using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Lab.Datasets;
using OpenVision.Training;
using OpenVision.Training.Evaluation.Datasets;

namespace OpenVision.Lab.Demo;

/// <summary>Settings of the demo's progressive-resolution benchmark.</summary>
public sealed record FashionMnistBenchmarkOptions
{
    /// <summary>Shards, calibration and run folders and the report go here.</summary>
    public string OutputFolder { get; init; } = "openvision-bench-progressive";

    /// <summary>Fashion-MNIST folder; null finds Debian's package or $OPENVISION_FASHION_MNIST.</summary>
    public string? DataFolder { get; init; }

    /// <summary>Budget, evaluation interval and size, calibration, clock.</summary>
    public ProgressiveBenchmarkOptions Benchmark { get; init; } = new();

    /// <summary>Samples per step of every stage; null keeps the demo's.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Seed (initialisation, data order, augmentation), the same for both runs.</summary>
    public int Seed { get; init; }

    /// <summary>The accuracy measurement; null: the demo's (<see cref="FashionMnistProgressiveBenchmark.ZeroShot"/>).</summary>
    public ZeroShotTop1? Evaluate { get; init; }
}

/// <summary>The benchmark on the demo: its model, its shards and its 16 → 24 px schedule, read from
/// <see cref="FashionMnistDemo.TrainConfig"/> so the comparison follows whatever the demo trains.</summary>
public static class FashionMnistProgressiveBenchmark
{
    /// <summary>Reads Fashion-MNIST, runs the benchmark and writes the report files; returns the report and their paths.</summary>
    public static (ProgressiveBenchmarkReport Report, IReadOnlyList<string> Files) Run(FashionMnistBenchmarkOptions options, IProgress<string>? log = null,
        IProgress<TrainingProgress>? training = null, IProgress<Pipelines.ProgressReport>? conversion = null, CancellationToken cancellationToken = default)
    {
        var train = FashionMnist.ReadTrain(options.DataFolder);
        var test = FashionMnist.ReadTest(options.DataFolder);
        log?.Report($"Fashion-MNIST: {train.Count} training and {test.Count} test images");
        return Run(options, train, test, log, training, conversion, cancellationToken);
    }

    /// <summary>Runs on given splits (a test may pass a subsample).</summary>
    public static (ProgressiveBenchmarkReport Report, IReadOnlyList<string> Files) Run(FashionMnistBenchmarkOptions options, FashionMnistSplit train,
        FashionMnistSplit test, IProgress<string>? log = null, IProgress<TrainingProgress>? training = null,
        IProgress<Pipelines.ProgressReport>? conversion = null, CancellationToken cancellationToken = default)
    {
        options.Benchmark.Validate();
        if (options.Benchmark.EvalImages > test.Count) throw new ArgumentException($"--eval-images {options.Benchmark.EvalImages} exceeds the {test.Count} test images");
        Directory.CreateDirectory(options.OutputFolder);
        var shards = FashionMnistDemo.PrepareShards(train, Path.Combine(options.OutputFolder, "shards"), options.Seed, conversion);
        log?.Report($"{(shards.Reused ? "reusing" : "wrote")} {shards.Shards.Count} WebDataset shards ({shards.Samples} samples): {shards.Pattern}");

        string configPath = Path.Combine(options.OutputFolder, "model_config.json");
        var demo = new DemoOptions { Seed = options.Seed };
        File.WriteAllText(configPath, ConfigJson.ToHubJson(FashionMnistDemo.ModelConfigFor(demo)));
        var schedule = FashionMnistDemo.TrainConfig(configPath, demo, train.Count);
        if (options.BatchSize is { } batch) schedule = schedule with { Stages = schedule.Stages.Select(s => s with { BatchSize = batch }).ToList() };
        var data = FashionMnistDemo.Data(shards.Pattern, options.Seed, schedule.CaptionTokens);

        var benchmark = new ProgressiveBenchmark(schedule, data, options.Evaluate ?? ZeroShot(test), options.OutputFolder, options.Benchmark);
        // The trainer names a model by its config file; the report names the architecture.
        var report = benchmark.Run(log, training, cancellationToken) with { Model = FashionMnistDemo.ModelName };
        return (report, ProgressiveBenchmarkFiles.Write(report, options.OutputFolder));
    }

    /// <summary>The demo's zero-shot protocol (class-name prompts, the demo's templates), the one seam to change when
    /// the demo's evaluation changes.</summary>
    public static ZeroShotTop1 ZeroShot(FashionMnistSplit test)
    {
        ArgumentNullException.ThrowIfNull(test);
        var whole = new LabeledImageSource(test.Name, FashionMnist.PromptNames, _ => Enumerable.Range(0, test.Count)
            .Select(i => new LabeledImage(ImageSample.FromImage($"{test.Name}:{i}", test.Image(i)), test.Labels[i])), count: test.Count);
        return (model, imageSize, images) => FashionMnistZeroShot.Evaluate(model, LabeledImageSource.First(whole, images), imageSize).Top1;
    }
}

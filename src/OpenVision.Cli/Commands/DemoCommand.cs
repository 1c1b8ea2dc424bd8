using System.CommandLine;
using OpenVision.Lab.Demo;
using OpenVision.Pipelines;
using OpenVision.Training;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision demo</c>: train a small OpenVision encoder on Fashion-MNIST and classify zero-shot.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "Folder for shards, checkpoints, metrics and the model", DefaultValueFactory = _ => "openvision-demo" };
        var low = new Option<double>("--low-res-epochs") { Description = "Passes over the 60,000 training images at low resolution", DefaultValueFactory = _ => FashionMnistDemo.DefaultLowResEpochs };
        var high = new Option<double>("--high-res-epochs") { Description = "Passes at the final resolution", DefaultValueFactory = _ => FashionMnistDemo.DefaultHighResEpochs };
        var lowSize = new Option<int>("--low-res-size") { Description = "Pixels per side of the low-resolution stage (a multiple of 4)", DefaultValueFactory = _ => FashionMnistDemo.LowResImageSize };
        var highSize = new Option<int>("--high-res-size") { Description = "Pixels per side of the final stage and the saved model (a multiple of 4)", DefaultValueFactory = _ => FashionMnistDemo.HighResImageSize };
        var lowLr = new Option<double>("--low-res-lr") { Description = "Peak learning rate of the low-resolution stage", DefaultValueFactory = _ => FashionMnistDemo.DefaultLowResPeakLr };
        var highLr = new Option<double>("--high-res-lr") { Description = "Peak learning rate of the final stage", DefaultValueFactory = _ => FashionMnistDemo.DefaultHighResPeakLr };
        var batch = new Option<int>("--batch-size") { Description = "Samples per step", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        var data = new Option<string?>("--data") { Description = "Fashion-MNIST folder (default: Debian's dataset-fashion-mnist)" };
        var command = new Command("demo", "Train a small OpenVision encoder on Fashion-MNIST (CLIPS losses, 16→24 px) and evaluate it zero-shot")
            { output, low, high, lowSize, highSize, lowLr, highLr, batch, seed, data };
        command.SetAction(r => CliErrors.Run(() => Run(new DemoOptions
        {
            OutputFolder = r.GetValue(output)!, LowResEpochs = r.GetValue(low), HighResEpochs = r.GetValue(high),
            LowResImageSize = r.GetValue(lowSize), HighResImageSize = r.GetValue(highSize), LowResPeakLr = r.GetValue(lowLr), HighResPeakLr = r.GetValue(highLr),
            BatchSize = r.GetValue(batch), Seed = r.GetValue(seed), DataFolder = r.GetValue(data),
        })));
        return command;
    }

    // Checked by option name before the dataset is converted (minutes and 250 MB of shards).
    private static void Check(DemoOptions o)
    {
        if (!(o.LowResEpochs > 0 && o.LowResEpochs <= 1000)) throw new ArgumentException($"--low-res-epochs must be in (0, 1000], not {o.LowResEpochs}");
        if (!(o.HighResEpochs > 0 && o.HighResEpochs <= 1000)) throw new ArgumentException($"--high-res-epochs must be in (0, 1000], not {o.HighResEpochs}");
        if (o.BatchSize is < 1 or > 60_000) throw new ArgumentException($"--batch-size must be 1 to 60,000 (the training set), not {o.BatchSize}");
        foreach (var (name, size) in new[] { ("--low-res-size", o.LowResImageSize), ("--high-res-size", o.HighResImageSize) })
            if (size is < 4 or > 4096) throw new ArgumentException($"{name} must be 4 to 4096 px, not {size}");   // the patch grid is checked with the stages
        foreach (var (name, lr) in new[] { ("--low-res-lr", o.LowResPeakLr), ("--high-res-lr", o.HighResPeakLr) })
            if (!(lr > 0 && lr <= 1000)) throw new ArgumentException($"{name} must be in (0, 1000], not {lr}");
    }

    private static int Run(DemoOptions options)
    {
        Check(options);
        var conversion = new ConsoleProgress("samples");
        var training = new TrainingLine();
        var result = DemoRun.Run(options, new SyncProgress<string>(Console.WriteLine), training, conversion);
        training.Finish();
        Console.WriteLine($"zero-shot top-1 on {result.EvaluatedImages} Fashion-MNIST test images: {result.Top1:P2} " +
                          $"(training {result.TrainSeconds / 60:F1} min, total {result.TotalSeconds / 60:F1} min)");
        Console.WriteLine($"model saved to {result.ModelFolder} (open_clip format; try: openvision classify --model {result.ModelFolder} IMAGE --labels ...)");
        foreach (var (index, truth, top) in result.Examples)
            Console.WriteLine($"  test image {index}: {truth,-12} -> {string.Join(", ", top.Select(s => $"{s.Label} {s.Probability:P0}"))}");
        return 0;
    }
}

using System.CommandLine;
using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Lab.Demo;
using OpenVision.Pipelines;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench progressive [--budget-minutes M] [--eval-every-seconds S] [--eval-images N] [--output DIR] [--data DIR]</c>:
/// the demo's model trained twice for the same training time, at a fixed 24 px and with the demo's 16 → 24 px
/// schedule; zero-shot accuracy against time, the speed-up, samples/s per stage and peak memory.</summary>
internal static class BenchProgressiveCommand
{
    public static Command Create()
    {
        var budget = new Option<double>("--budget-minutes") { Description = "Training time of each run (evaluation excluded)", DefaultValueFactory = _ => 10 };
        var every = new Option<double>("--eval-every-seconds") { Description = "Evaluate every this many seconds of training time", DefaultValueFactory = _ => 30 };
        var images = new Option<int>("--eval-images") { Description = "Test images per evaluation (the first N)", DefaultValueFactory = _ => 1000 };
        var output = new Option<string>("--output", "-o") { Description = "Folder for shards, runs and the report (progressive.json, .md, -accuracy.png)",
            DefaultValueFactory = _ => "openvision-bench-progressive" };
        var data = new Option<string?>("--data") { Description = "Fashion-MNIST folder (default: Debian's dataset-fashion-mnist)" };
        var seed = new Option<int>("--seed") { Description = "Seed of both runs", DefaultValueFactory = _ => 0 };
        var command = new Command("progressive", "Fixed 24 px vs the demo's progressive 16 → 24 px schedule for the same training time on Fashion-MNIST: accuracy vs time, speed-up, samples/s, memory")
            { budget, every, images, output, data, seed };
        command.SetAction(r => CliErrors.Run(() => Run(new FashionMnistBenchmarkOptions
        {
            OutputFolder = r.GetValue(output)!, DataFolder = r.GetValue(data), Seed = r.GetValue(seed),
            Benchmark = new ProgressiveBenchmarkOptions
            {
                Budget = TimeSpan.FromMinutes(r.GetValue(budget)), EvalEvery = TimeSpan.FromSeconds(r.GetValue(every)), EvalImages = r.GetValue(images),
            }.Validate(),
        })));
        return command;
    }

    private static int Run(FashionMnistBenchmarkOptions options)
    {
        var training = new TrainingLine();
        var conversion = new ConsoleProgress("samples");
        var log = new SyncProgress<string>(line =>
        {
            conversion.Finish();
            training.Finish();
            Console.WriteLine(line);
        });
        var (report, files) = FashionMnistProgressiveBenchmark.Run(options, log, training, conversion);
        training.Finish();
        Console.WriteLine();
        Console.WriteLine($"{"run",-12} {"stage",5} {"px",4} {"batch",5} {"samples",9} {"planned s",9} {"train s",8} {"samples/s",9} {"calib/s",8} {"peak MiB",8}");
        foreach (var run in new[] { report.Fixed, report.Progressive })
            foreach (var s in run.Stages)
                Console.WriteLine($"{run.Name,-12} {s.Stage + 1,5} {s.ImageSize,4} {s.BatchSize,5} {s.Samples,9} {s.PlannedSeconds,9:F1} {s.TrainingSeconds,8:F1} {s.SamplesPerSecond,9:F1} {s.CalibratedSamplesPerSecond,8:F1} {s.PeakWorkingSetBytes / (1 << 20),8}");
        Console.WriteLine();
        foreach (var run in new[] { report.Fixed, report.Progressive })
            Console.WriteLine($"{run.Name} ({run.Description}): final zero-shot top-1 {run.FinalTop1:P1} at {report.FinalImageSize} px after {run.TrainingSeconds / 60:F2} min of training " +
                              $"({run.Curve.Count} evaluations, {run.EvaluationSeconds:F0} s)");
        var speedUp = report.SpeedUp;
        Console.WriteLine(speedUp.ProgressiveSeconds is { } p
            ? $"speed-up to the fixed run's final {speedUp.TargetTop1:P1}: {speedUp.Describe()} (fixed {speedUp.FixedSeconds:F0} s, progressive {p:F0} s)"
            : $"speed-up: not reached (the progressive run never reached the fixed run's final {speedUp.TargetTop1:P1})");
        if (!report.PeakMemoryPerStage) Console.WriteLine("peak memory: the process's peak since start (the high-water mark could not be reset here)");
        foreach (var file in files) Console.WriteLine($"wrote {file}");
        return 0;
    }
}

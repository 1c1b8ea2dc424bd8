using System.CommandLine;
using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Lab.Datasets;
using OpenVision.Lab.Demo;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench train-objectives [--steps N] [--repeats R] [--budget-minutes M] [--shards PATTERN] ...</c>:
/// OpenVision's CLIPS objective against OpenVision 2's caption-only objective (keep ratios 1.0, 0.35, 0.25) on the same
/// vision tower: step time, samples/s and peak memory in the demo's setting and a vision-dominated one, then
/// linear-probe and 10-shot accuracy and captions on Fashion-MNIST after the same training time.</summary>
internal static class BenchTrainObjectivesCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Timed steps per variant and round (after one warm-up step)", DefaultValueFactory = _ => 4 };
        var repeats = new Option<int>("--repeats") { Description = "Rounds over the variants (interleaved)", DefaultValueFactory = _ => 2 };
        var budget = new Option<double>("--budget-minutes") { Description = "Training time of each variant for the quality part (0 skips it)", DefaultValueFactory = _ => 3 };
        var probeTrain = new Option<int>("--probe-train-images") { Description = "Training images the linear probes learn from", DefaultValueFactory = _ => 10_000 };
        var testImages = new Option<int>("--test-images") { Description = "Test images the probes are scored on", DefaultValueFactory = _ => 10_000 };
        var captions = new Option<int>("--caption-images") { Description = "Test images to caption", DefaultValueFactory = _ => 8 };
        var shards = new Option<string?>("--shards") { Description = "Fashion-MNIST training shards (default: written under --output, as the demo does)" };
        var data = new Option<string?>("--data") { Description = "Fashion-MNIST folder (default: Debian's dataset-fashion-mnist)" };
        var output = new Option<string>("--output", "-o") { Description = "Folder for shards, runs and models", DefaultValueFactory = _ => "openvision-bench-objectives" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        var command = new Command("train-objectives", "CLIPS vs caption-only (OpenVision 2, keep 1.0/0.35/0.25) on the same tower: step time, samples/s, peak memory, then probe accuracy and captions for the same training time")
            { steps, repeats, budget, probeTrain, testImages, captions, shards, data, output, seed };
        command.SetAction(r => CliErrors.Run(() => Run(r.GetValue(steps), r.GetValue(repeats), r.GetValue(budget), r.GetValue(probeTrain), r.GetValue(testImages),
            r.GetValue(captions), r.GetValue(shards), r.GetValue(data), r.GetValue(output)!, r.GetValue(seed))));
        return command;
    }

    private static int Run(int steps, int repeats, double budgetMinutes, int probeTrain, int testImages, int captionImages, string? shards, string? data, string output, int seed)
    {
        var log = new SyncProgress<string>(Console.WriteLine);
        Console.WriteLine($"load average at start: {LoadAverage()}; threads: {TorchSharp.torch.get_num_threads()}");
        var speeds = new List<ObjectiveSpeed>();
        foreach (var setting in new[] { TrainObjectivesSetting.Demo, TrainObjectivesSetting.VisionDominated })
            speeds.AddRange(TrainObjectivesBenchmark.MeasureSpeed(setting, steps, repeats, seed, log));
        Console.WriteLine();
        Console.WriteLine($"{"setting",-13} {"objective",-13} {"step ms",8} {"(rounds)",15} {"samples/s",9} {"vs clips",8} {"peak RSS MiB",12} {"params",11}");
        foreach (var s in speeds)
        {
            double clips = speeds.Single(c => c.Setting == s.Setting && c.Variant == "clips").StepMs;
            Console.WriteLine($"{s.Setting,-13} {s.Variant,-13} {s.StepMs,8:F0} {$"{s.StepMsLow:F0}–{s.StepMsHigh:F0}",15} {s.SamplesPerSecond,9:F1} {clips / s.StepMs,7:F2}× {s.PeakRssMiB,12} {s.Parameters,11:N0}");
        }
        Console.WriteLine("peak RSS: rise of the process's resident high-water mark (VmHWM) over the block, model and optimizer included");
        Console.WriteLine($"load average after the speed part: {LoadAverage()}");
        if (budgetMinutes <= 0) return 0;

        var files = FashionMnist.Locate(data);
        string pattern = shards ?? FashionMnistDemo.PrepareShards(FashionMnist.ReadTrain(data), Path.Combine(output, "shards"), seed).Pattern;
        var quality = TrainObjectivesBenchmark.MeasureQuality(pattern, files, Path.Combine(output, "runs"), [.. speeds.Where(s => s.Setting == TrainObjectivesSetting.Demo.Name)],
            TimeSpan.FromMinutes(budgetMinutes), probeTrain, testImages, captionImages, seed, log);
        Console.WriteLine();
        Console.WriteLine($"{"objective",-13} {"steps",6} {"train s",8} {"loss",7} {"linear probe",12} {"10-shot",8}");
        foreach (var q in quality)
            Console.WriteLine($"{q.Variant,-13} {q.Steps,6} {q.TrainingSeconds,8:F0} {q.FinalLoss,7:F3} {q.LinearProbeTop1,12:P1} {q.TenShotTop1,8:P1}");
        var test = FashionMnist.ReadTest(data);
        foreach (var q in quality.Where(q => q.Captions.Count > 0))
        {
            Console.WriteLine($"captions, {q.Variant}:");
            for (int i = 0; i < q.Captions.Count; i++) Console.WriteLine($"  {i} ({FashionMnist.PromptNames[test.Labels[i]]}): {q.Captions[i]}");
        }
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }
}

using OpenVision.IO;
using System.CommandLine;
using System.Text.Json;
using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Lab.Demo;
using OpenVision.Native;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench train-step</c>: median time of one full CLIPS training step, and the files for the
/// PyTorch reference step (<c>benchmarks/pytorch/train_step.py</c>).</summary>
internal static class TrainStepBenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Model: '{FashionMnistDemo.ModelName}' (the demo's architecture and decoder), a built-in name, a config JSON or a folder",
            DefaultValueFactory = _ => FashionMnistDemo.ModelName };
        var batch = new Option<int?>("--batch-size") { Description = "Samples per step (default: 128 for the demo, 32 otherwise)" };
        var size = new Option<int?>("--image-size") { Description = "Pixels per side (default: 16 for the demo, the config's size otherwise)" };
        var caption = new Option<int?>("--caption-tokens") { Description = "Decoder queries = caption length (default: 16 for the demo, 128 otherwise)" };
        var steps = new Option<int>("--steps") { Description = "Timed steps (medians over these)", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup-steps") { Description = "Untimed steps first", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads (0: libtorch's default)" };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights and the batch" };
        var json = new Option<string?>("--json") { Description = "Also write the result to this JSON file" };
        var export = new Option<string?>("--export-weights") { Description = "Write the initial weights, the batch and the settings here for benchmarks/pytorch/train_step.py" };
        var command = new Command("train-step", "Time one training step (both towers with two texts per image, caption decoder, both losses, backward, AdamW)")
            { model, batch, size, caption, steps, warmup, threads, seed, json, export };
        command.SetAction(r => CliErrors.Run(() =>
        {
            OutputFiles.Check("--json", r.GetValue(json));
            var options = TrainStepOptions.For(r.GetValue(model)!);
            options = options with
            {
                BatchSize = r.GetValue(batch) ?? options.BatchSize,
                ImageSize = r.GetValue(size) ?? options.ImageSize,
                Decoder = r.GetValue(caption) is { } q ? options.Decoder with { QueryTokens = q } : options.Decoder,
                Steps = r.GetValue(steps),
                WarmupSteps = r.GetValue(warmup),
                Threads = r.GetValue(threads),
                Seed = r.GetValue(seed),
            };
            return Run(options, r.GetValue(json), r.GetValue(export));
        }));
        return command;
    }

    private static int Run(TrainStepOptions options, string? jsonPath, string? exportFolder)
    {
        Console.WriteLine($"{options.Model.Name}: batch {options.BatchSize}, {options.ImageSize} px, {options.CaptionTokens} caption tokens, " +
            $"{options.WarmupSteps} warm-up + {options.Steps} timed steps; MKL dispatch: {MklCpuDispatch.Status}, heap tuning: {HeapTuning.Status}");
        var progress = new SyncProgress<TrainStepProgress>(p =>
            Console.WriteLine($"step {p.Step}/{p.TotalSteps}{(p.Warmup ? " (warm-up)" : "")}: {p.Milliseconds:F1} ms, loss {p.TotalLoss:F6}"));
        var r = TrainStepBenchmark.Run(options, exportFolder, progress);
        Console.WriteLine($"first-step loss {r.FirstStepLosses.Total:R} (contrastive {r.FirstStepLosses.Contrastive:R}, caption {r.FirstStepLosses.Caption:R})");
        Console.WriteLine($"{r.Parameters:N0} parameters, {r.Threads} threads: {r.StepMs:F1} ms/step (median of {r.Steps}), {r.SamplesPerSecond:F1} samples/s; " +
            $"forward {r.ForwardMs:F1} ms, backward {r.BackwardMs:F1} ms, optimizer {r.OptimizerMs:F1} ms; peak working set {r.PeakWorkingSetMiB} MiB");
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(r, new JsonSerializerOptions(Configs.ConfigJson.Options)));
        if (exportFolder is not null)
            Console.WriteLine($"reference inputs in {exportFolder}; run: /usr/bin/python3 benchmarks/pytorch/train_step.py {exportFolder}");
        return 0;
    }
}

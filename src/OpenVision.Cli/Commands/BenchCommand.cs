using System.CommandLine;
using OpenVision.Lab.Benchmarks;
using OpenVision.Onnx;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench</c>: encode throughput per model and batch size, texts/s, and end-to-end JPEG folders;
/// <c>bench serve</c> (<see cref="BenchServeCommand"/>) loads the HTTP service; <c>bench progressive</c>
/// (<see cref="BenchProgressiveCommand"/>) compares fixed and progressive-resolution training.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models") { Description = "Models to time: built-in names (random weights), or folders/checkpoints (their weights)", AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["openvision-vit-tiny-patch16-224", "openvision-vit-base-patch16-224", "openvision-vit-large-patch14-224"] };
        var batches = new Option<int[]>("--batch-sizes") { Description = "Batch sizes", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1, 8, 32] };
        var seconds = new Option<double>("--seconds") { Description = "Time budget per measurement", DefaultValueFactory = _ => 5 };
        var bf16 = new Option<bool>("--bf16") { Description = "Also time bfloat16 (reports its error against float32)" };
        var int8 = new Option<bool>("--int8") { Description = "Also time the int8 ONNX export (ONNX Runtime dynamic quantisation; needs --backend onnx or all)" };
        var libtorchOps = new Option<bool>("--libtorch-ops") { Description = "Also time float32 through libtorch's operations in place of the float32 block kernels, alternating with them (before and after; where the kernels run)" };
        var images = new Option<string?>("--images") { Description = "Folder of JPEGs for the end-to-end run (default: 64 synthetic 500x375 JPEGs)" };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file" };
        var plot = new Option<string?>("--plot") { Description = "Also draw images/s per model, batch size and path as bars in this PNG file" };
        var backend = new Option<string>("--backend") { Description = "torch, onnx (ONNX Runtime next to a plain ORT session of the same graph: the anchor) or all",
            DefaultValueFactory = _ => "torch" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core)" };
        var noSpin = new Option<bool>("--no-spin") { Description = "ONNX Runtime threads sleep instead of spinning when idle" };
        var standard = new Option<bool>("--standard-ops") { Description = "ONNX backend: export with standard ONNX operators only (no fused com.microsoft Attention)" };
        var profile = new Option<int>("--profile-runs") { Description = "ONNX backend: also profile this many runs per batch size with ONNX Runtime's profiler " +
            "(op types before/after graph optimisation, kernel time per op type; files kept in a temporary folder)" };
        var onnxFile = new Option<string?>("--onnx-file") { Description = "ONNX backend: also time this vision graph of the same weights in a plain ORT session " +
            "(e.g. benchmarks/pytorch/export_onnx.py's torch.onnx export; one model in --models, the folder the export used); it must match TorchSharp's encode_image first" };
        var peak = new Option<double?>("--peak-gflops") { Description = "The machine's fp32 peak, a manual override (default: measured by an fp32 FMA loop on all cores, cached per machine in ~/.cache/openvision)" };
        var remeasure = new Option<bool>("--remeasure-peak") { Description = "Measure the peak again instead of using the per-machine cache" };
        var latencyRuns = new Option<int>("--latency-runs") { Description = "Timed single-image calls per model for the batch-1 p50/p99 latency (0: none)", DefaultValueFactory = _ => 50 };
        var backgroundLoad = new Option<int>("--background-load") { Description = "Run this many busy-looping processes alongside the measurements, as on a machine shared with other work; " +
            "each TorchSharp row is then also timed with all threads on every call (adaptive thread count off) for comparison" };
        var command = new Command("bench", "Measure encode throughput (images/s, texts/s) and report threads, memory and kernels")
            { models, batches, seconds, bf16, int8, libtorchOps, images, json, plot, peak, remeasure, latencyRuns, backgroundLoad, backend, threads, noSpin, standard, profile, onnxFile,
              BenchServeCommand.Create(), TrainStepBenchCommand.Create(), BenchProgressiveCommand.Create(), BenchIndexCommand.Create(),
              BenchTrainObjectivesCommand.Create(), BenchRetrievalCommand.Create(), BenchPrecisionCommand.Create(), BenchBFloat16Command.Create() };
        command.SetAction(r => CliErrors.Run(() =>
        {
            // A run takes minutes to an hour: refuse an output it could not write before it starts, not after.
            OutputFiles.Check("--json", r.GetValue(json));
            OutputFiles.Check("--plot", r.GetValue(plot));
            var which = r.GetValue(backend)!.ToLowerInvariant();
            if (which is not ("torch" or "onnx" or "all")) throw new ArgumentException($"--backend must be torch, onnx or all, not '{which}'");
            var options = new ThroughputBenchmarkOptions
            {
                Models = r.GetValue(models)!, BatchSizes = r.GetValue(batches)!, Budget = TimeSpan.FromSeconds(r.GetValue(seconds)), BFloat16 = r.GetValue(bf16), Int8 = r.GetValue(int8), LibtorchOps = r.GetValue(libtorchOps),
                ImageFolder = r.GetValue(images), PeakGflops = r.GetValue(peak), RemeasurePeak = r.GetValue(remeasure), LatencyRuns = r.GetValue(latencyRuns), BackgroundLoad = r.GetValue(backgroundLoad), Torch = which != "onnx", Onnx = which != "torch",
                Runtime = new OnnxRuntimeOptions { IntraOpThreads = r.GetValue(threads), AllowSpinning = !r.GetValue(noSpin) },
                StandardOps = r.GetValue(standard), ProfileRuns = r.GetValue(profile), ExternalGraph = r.GetValue(onnxFile),
            }.Validate();
            var report = ThroughputBenchmark.Run(options, new SyncProgress<string>(Console.WriteLine));
            if (r.GetValue(json) is { } path) report.Save(path);
            if (r.GetValue(plot) is { } png)
            {
                ThroughputPlot.Chart(report).Save(png);
                Console.WriteLine($"wrote {png}");
            }
            return 0;
        }));
        return command;
    }
}

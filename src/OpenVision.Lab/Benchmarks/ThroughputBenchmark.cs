using OpenVision.IO;
using System.Diagnostics;
using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Lab.Benchmarks.Onnx;
using OpenVision.Models;
using OpenVision.Native;
using OpenVision.Pipelines;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks;

/// <summary>What <see cref="ThroughputBenchmark.Run"/> measured.</summary>
/// <param name="Machine">The CPU it ran on.</param>
/// <param name="Peak">The fp32 (and bf16) peak the "% meas" column divides by, with how it was obtained.</param>
/// <param name="Results">One row per measurement, in the order printed.</param>
/// <param name="Latencies">Batch-1 latency percentiles per model.</param>
public sealed record ThroughputReport(MachineInfo Machine, MeasuredPeak Peak, IReadOnlyList<BenchmarkResult> Results, IReadOnlyList<LatencyResult> Latencies)
{
    /// <summary>Writes the report as indented JSON.</summary>
    public void Save(string path) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { machine = Machine, estimatedPeakFloat32Gflops = Machine.PeakFloat32Gflops, peak = Peak, results = Results, latencies = Latencies },
            new JsonSerializerOptions { WriteIndented = true }));
}

/// <summary><c>openvision bench</c>: encode throughput per model and batch size (TorchSharp and/or ONNX Runtime),
/// texts/s and end to end over a JPEG folder, as a table of lines for the console.</summary>
public static class ThroughputBenchmark
{
    /// <summary>Runs every measurement; <paramref name="lines"/> receives the header, one row per result as it
    /// finishes, and notes (threads, runtime tuning, ONNX checks and profiles).</summary>
    public static ThroughputReport Run(ThroughputBenchmarkOptions options, IProgress<string> lines)
    {
        options.Validate();
        var machine = MachineInfo.Current();
        var peak = ResolvePeak(options, machine);
        lines.Report($"cpu {machine.CpuModel}, {machine.Cores} cores @ {machine.MegaHertz:F0} MHz{(machine.HasAvx512Bf16 ? ", AVX-512 BF16" : "")}: " +
            $"fp32 peak {peak.Float32Gflops:F0} GFLOP/s measured, {machine.PeakFloat32Gflops:F0} estimated from /proc/cpuinfo" +
            (peak.BFloat16Gflops is { } bf ? $", bf16 {MeasuredPeak.FormatGflops(bf)} GFLOP/s" : ""));
        lines.Report($"peak: {peak.Float32Method}{(peak.BFloat16Method is { } m ? $"; bf16 {m}" : "")}; measured {peak.MeasuredAtUtc:yyyy-MM-dd HH:mm}Z");
        if (peak.BFloat16Outlook() is { } outlook) lines.Report(outlook);
        using var background = new BackgroundLoad(options.BackgroundLoad);
        if (background.Count > 0) lines.Report($"background load: {background.Count} busy-looping processes compete for the {machine.Cores} cores during every measurement");
        lines.Report($"torch threads {torch.get_num_threads()} (adaptive under contention: {ContentionAwareThreads.Status}), MKL dispatch: {MklCpuDispatch.Status}, heap tuning: {HeapTuning.Status}, backend {(torch.cuda.is_available() ? "CUDA available (timing CPU)" : "CPU")}, JPEG decoder: {ImageDecoder.JpegDecoderName}, decode threads: {ImageBatchReader.DecodeThreads}, fp32 vision blocks: {Float32Kernels.Status}, bf16 linear layers: {BFloat16Kernels.Status}");
        lines.Report($"{"model",-34} {"task",-26} {"dtype",-9} {"batch",5} {"items/s",9} {"GFLOP/s",8} {"% meas",7} {"% est",7} {"err vs fp32",11}");
        var results = new List<BenchmarkResult>();
        var latencies = new List<LatencyResult>();
        void Print(BenchmarkResult r)
        {
            results.Add(r);
            lines.Report(RowLine(r, peak, machine));
        }

        foreach (var name in options.Models)
        {
            using var model = CreateModel(name);
            void Latency(LatencyResult latency)
            {
                latencies.Add(latency);
                string threads = latency.Backend.StartsWith("torch", StringComparison.Ordinal) ? $"{latency.TorchThreads} torch threads" : "ORT threads as above";
                lines.Report($"{latency.Model,-34} {$"latency b1 p50/p99 ms[{latency.Backend}]",-26} {"Float32",-9} {1,5} {latency.P50Milliseconds,9:F1} {latency.P99Milliseconds,8:F1}  ({latency.Runs} runs, {threads})");
            }
            if (options.Onnx) OnnxComparison.Run(model, options, Print, Latency, lines);
            if (!options.Torch) continue;
            bool compareAllThreads = background.Count > 0 && model.Threads.Enabled;
            bool compareLibtorchOps = options.LibtorchOps && Float32Kernels.Available;
            if (options.LatencyRuns > 0)
            {
                Latency(LatencyBenchmark.Images(model, options.LatencyRuns));
                if (compareLibtorchOps && Float32Kernels.RunsBlocks(model.Config.VisionCfg, 1))
                    using (Float32Ops.UseLibtorchOperations()) Latency(LatencyBenchmark.Images(model, options.LatencyRuns) with { Backend = "torch, libtorch ops" });
                if (compareAllThreads) Latency(EncodeBenchmark.OnAllThreads(model, () => LatencyBenchmark.Images(model, options.LatencyRuns)) with { Backend = "torch, all threads" });
            }
            foreach (int batch in options.BatchSizes)
            {
                if (options.BFloat16)
                {
                    var (fp32, bf16) = EncodeBenchmark.ImagesAgainstFloat32(model, batch, options.Budget, ScalarType.BFloat16);
                    Print(fp32);
                    Print(bf16);
                }
                else if (!compareAllThreads) Print(EncodeBenchmark.Images(model, batch, options.Budget));
                if (compareLibtorchOps && Float32Kernels.RunsBlocks(model.Config.VisionCfg, batch))
                {
                    var (kernels, libtorchOps) = EncodeBenchmark.ImagesAgainstLibtorchOps(model, batch, options.Budget);
                    Print(kernels);
                    Print(libtorchOps);
                }
                if (compareAllThreads)
                {
                    var (adaptive, allThreads) = EncodeBenchmark.ImagesAgainstAllThreads(model, batch, options.Budget);
                    if (!options.BFloat16) Print(adaptive);
                    Print(allThreads with { Task = AllThreadsTask });
                }
            }
            var tokenizer = OpenVisionEncoder.CreateTokenizer(model.Config);
            using var ids = torch.tensor(tokenizer.EncodeBatch(Enumerable.Range(0, 32).Select(i => $"a photo of a {PromptNoun(i)} on a table").ToList()));
            Print(EncodeBenchmark.Texts(model, ids, options.Budget));
            var files = options.ImageFolder is null
                ? SyntheticImages.WriteJpegs(Path.Combine(Path.GetTempPath(), "openvision-bench-jpegs"), 64)
                : ImageFiles.Expand([options.ImageFolder]);
            var transform = new ImageTransform(OpenVisionEncoder.CreateTransformOptions(model.Config, model.Config.VisionCfg.ImageSize));
            var (endToEnd, modelOnly) = EncodeBenchmark.EndToEnd(model, transform, files, options.BatchSizes.Max());
            Print(endToEnd);
            Print(modelOnly);
            foreach (var choice in model.Threads.Choices()) lines.Report($"{"",34} threads {choice}");
            foreach (string line in BenchmarkSummary.Lines(results.Where(r => r.Model == model.Config.Name).ToList())) lines.Report(line);
        }
        if (PeakOvertaken(peak, results) is { } overtaken) lines.Report(overtaken);
        lines.Report($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB");
        return new ThroughputReport(machine, peak, results, latencies);
    }

    /// <summary>The peak the "% meas" column divides by: a manual <see cref="ThroughputBenchmarkOptions.PeakGflops"/> wins;
    /// otherwise the per-machine cache, measured on first use, when <see cref="ThroughputBenchmarkOptions.RemeasurePeak"/>, or
    /// when the cached figures were measured while other work shared the cores (<see cref="MeasuredPeak.SharedCores"/>).</summary>
    public static MeasuredPeak ResolvePeak(ThroughputBenchmarkOptions options, MachineInfo machine) => options.PeakGflops is { } manual
        ? new MeasuredPeak(machine.CpuModel, machine.Cores, manual, ManualPeakMethod, null, null, DateTime.UtcNow)
        : new PeakCache(options.PeakCacheFolder).GetOrMeasure(machine, options.RemeasurePeak, () => PeakMeter.Measure(machine, options.PeakDuration),
            stale: PeakIsStale);

    /// <summary>Whether cached peaks are to be measured again: measured while other work shared the cores, or a bf16
    /// GEMM rate cached before this machine's bf16 kernels could measure the dot-product loop.</summary>
    public static bool PeakIsStale(MeasuredPeak cached) =>
        cached.SharedCores || (!cached.HasBFloat16LoopPeak && BFloat16Ops.PeakLoop(1) > 0);

    private const string ManualPeakMethod = "given with --peak-gflops";

    /// <summary>One result row; bf16 rows also give their fraction of the bf16 peak where one was measured by the
    /// dot-product loop (a GEMM rate is not a peak: ViT-Ti's emulated bf16 ran at 1,250 % of it on an AVX2 EPYC).</summary>
    public static string RowLine(BenchmarkResult r, MeasuredPeak peak, MachineInfo machine) =>
        $"{r.Model,-34} {r.Task,-26} {r.DType,-9} {r.BatchSize,5} {r.ItemsPerSecond,9:F1} {r.GflopsPerSecond,8:F1} {100 * peak.FractionOfFloat32(r.GflopsPerSecond),6:F1}% {100 * r.GflopsPerSecond / machine.PeakFloat32Gflops,6:F1}% {(r.RelativeErrorVsFloat32 is { } e ? e.ToString("E2") : ""),11}" +
        (r.DType == "BFloat16" && peak.HasBFloat16LoopPeak && peak.BFloat16Gflops is { } bf16 ? $"  {100 * r.GflopsPerSecond / bf16:F1}% of bf16" : "");

    /// <summary>A warning when a float32 row went faster than the measured peak: the peak was measured while other work
    /// shared the cores (it is cached), so every "% meas" is overstated.</summary>
    public static string? PeakOvertaken(MeasuredPeak peak, IEnumerable<BenchmarkResult> results)
    {
        var fastest = results.Where(r => r.DType == "Float32").MaxBy(r => r.GflopsPerSecond);
        return fastest is null || peak.FractionOfFloat32(fastest.GflopsPerSecond) <= 1 ? null
            : $"warning: {fastest.Model} {fastest.Task} batch {fastest.BatchSize} ran at {fastest.GflopsPerSecond:F0} GFLOP/s, above the fp32 peak of " +
              $"{peak.Float32Gflops:F0} " + (peak.Float32Method != ManualPeakMethod ? $"measured {peak.MeasuredAtUtc:yyyy-MM-dd HH:mm}Z (other work shared the cores then): rerun with --remeasure-peak" : peak.Float32Method);
    }

    /// <summary>The task name of rows timed with <see cref="ContentionAwareThreads"/> off (every call on all threads).</summary>
    public const string AllThreadsTask = "encode_image[all threads]";

    // Built-in names are configs: random weights, as always. Anything else (a folder, a checkpoint, hf-hub:) brings its
    // weights, so that another tool's export of the same weights (--onnx-file) can be checked against ours.
    private static OpenVisionModel CreateModel(string name) =>
        ModelRegistry.TryGet(name, out var config) ? ModelFactory.Create(config) : ModelFactory.Load(name, new ModelLoadOptions { RandomInit = true }).Model;

    private static string PromptNoun(int i) => new[] { "dog", "cat", "bicycle", "teapot", "guitar", "lamp", "shoe", "clock" }[i % 8];
}

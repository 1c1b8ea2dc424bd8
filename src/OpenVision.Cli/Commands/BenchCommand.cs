using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OpenVision.Benchmarks;
using OpenVision.Configs;
using OpenVision.Native;
using OpenVision.Pipelines;
using OpenVision.Text;
using TorchSharp;
using static TorchSharp.torch;

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
        var images = new Option<string?>("--images") { Description = "Folder of JPEGs for the end-to-end run (default: 64 synthetic 500x375 JPEGs)" };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file" };
        var backend = new Option<string>("--backend") { Description = "torch, onnx (ONNX Runtime next to a plain ORT session of the same graph: the anchor) or all",
            DefaultValueFactory = _ => "torch" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core)" };
        var noSpin = new Option<bool>("--no-spin") { Description = "ONNX Runtime threads sleep instead of spinning when idle" };
        var standard = new Option<bool>("--standard-ops") { Description = "ONNX backend: export with standard ONNX operators only (no fused com.microsoft Attention)" };
        var profile = new Option<int>("--profile-runs") { Description = "ONNX backend: also profile this many runs per batch size with ONNX Runtime's profiler " +
            "(op types before/after graph optimisation, kernel time per op type; files kept in a temporary folder)" };
        var onnxFile = new Option<string?>("--onnx-file") { Description = "ONNX backend: also time this vision graph of the same weights in a plain ORT session " +
            "(e.g. benchmarks/pytorch/export_onnx.py's torch.onnx export; one model in --models, the folder the export used); it must match TorchSharp's encode_image first" };
        var peak = new Option<double?>("--peak-gflops") { Description = "The machine's fp32 peak (default: cores x clock x FLOPs/cycle from /proc/cpuinfo)" };
        var command = new Command("bench", "Measure encode throughput (images/s, texts/s) and report threads, memory and kernels")
            { models, batches, seconds, bf16, images, json, peak, backend, threads, noSpin, standard, profile, onnxFile, BenchServeCommand.Create(), TrainStepBenchCommand.Create(), BenchProgressiveCommand.Create() };
        command.SetAction(r => CliErrors.Run(() =>
        {
            var which = r.GetValue(backend)!.ToLowerInvariant();
            if (which is not ("torch" or "onnx" or "all")) throw new ArgumentException($"--backend must be torch, onnx or all, not '{which}'");
            string? external = r.GetValue(onnxFile);
            if (external is not null)
            {
                if (which == "torch") throw new ArgumentException("--onnx-file needs --backend onnx or all");
                if (r.GetValue(models)!.Length != 1) throw new ArgumentException("--onnx-file needs exactly one model in --models: the one whose weights the file holds");
                if (!File.Exists(external)) throw new FileNotFoundException($"--onnx-file: {external} not found");
            }
            return Run(r.GetValue(models)!, r.GetValue(batches)!, r.GetValue(seconds), r.GetValue(bf16), r.GetValue(images), r.GetValue(json), r.GetValue(peak),
                which != "onnx", which != "torch", new Onnx.OnnxRuntimeOptions { IntraOpThreads = r.GetValue(threads), AllowSpinning = !r.GetValue(noSpin) }, r.GetValue(standard), r.GetValue(profile), external);
        }));
        return command;
    }

    private static int Run(string[] names, int[] batchSizes, double seconds, bool bf16, string? imageFolder, string? jsonPath, double? peakGflops,
        bool torchBackend, bool onnxBackend, Onnx.OnnxRuntimeOptions runtime, bool standardOps, int profileRuns, string? externalGraph)
    {
        var machine = MachineInfo.Current();
        double peak = peakGflops ?? machine.PeakFloat32Gflops;
        var budget = TimeSpan.FromSeconds(seconds);
        Console.WriteLine($"cpu {machine.CpuModel}, {machine.Cores} cores @ {machine.MegaHertz:F0} MHz, fp32 peak {peak:F0} GFLOP/s{(peakGflops is null ? " (estimated)" : "")}{(machine.HasAvx512Bf16 ? ", AVX-512 BF16" : "")}");
        Console.WriteLine($"torch threads {torch.get_num_threads()}, MKL dispatch: {MklCpuDispatch.Status}, heap tuning: {HeapTuning.Status}, backend {(torch.cuda.is_available() ? "CUDA available (timing CPU)" : "CPU")}");
        Console.WriteLine($"{"model",-34} {"task",-26} {"dtype",-9} {"batch",5} {"items/s",9} {"GFLOP/s",8} {"% peak",7} {"err vs fp32",11}");
        var results = new List<BenchmarkResult>();
        void Print(BenchmarkResult r)
        {
            results.Add(r);
            Console.WriteLine($"{r.Model,-34} {r.Task,-26} {r.DType,-9} {r.BatchSize,5} {r.ItemsPerSecond,9:F1} {r.GflopsPerSecond,8:F1} {100 * r.GflopsPerSecond / peak,6:F1}% {(r.RelativeErrorVsFloat32 is { } e ? e.ToString("E2") : ""),11}");
        }

        foreach (var name in names)
        {
            using var model = CreateModel(name);
            if (onnxBackend) BenchOnnx(model, batchSizes, budget, runtime, standardOps, profileRuns, externalGraph, Print);
            if (!torchBackend) continue;
            foreach (int batch in batchSizes)
            {
                Print(EncodeBenchmark.Images(model, batch, budget));
                if (bf16) Print(EncodeBenchmark.Images(model, batch, budget, ScalarType.BFloat16));
            }
            var tokenizer = OpenVisionEncoder.CreateTokenizer(model.Config);
            using var ids = torch.tensor(tokenizer.EncodeBatch(Enumerable.Range(0, 32).Select(i => $"a photo of a {PromptNoun(i)} on a table").ToList()));
            Print(EncodeBenchmark.Texts(model, ids, budget));
            var files = imageFolder is null
                ? SyntheticImages.WriteJpegs(Path.Combine(Path.GetTempPath(), "openvision-bench-jpegs"), 64)
                : ImageFiles.Expand([imageFolder]);
            var transform = new Vision.ImageTransform(OpenVisionEncoder.CreateTransformOptions(model.Config, model.Config.VisionCfg.ImageSize));
            Print(EncodeBenchmark.EndToEnd(model, transform, files, batchSizes.Max()));
        }
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB");
        if (jsonPath is not null) File.WriteAllText(jsonPath, JsonSerializer.Serialize(new { machine, results }, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    // Built-in names are configs: random weights, as always. Anything else (a folder, a checkpoint, hf-hub:) brings its
    // weights, so that another tool's export of the same weights (--onnx-file) can be checked against ours.
    private static Models.OpenVisionModel CreateModel(string name) =>
        ModelRegistry.TryGet(name, out var config) ? ModelFactory.Create(config) : ModelFactory.Load(name, new ModelLoadOptions { RandomInit = true }).Model;

    // The weights exported into a temporary folder (validated as every export is), then ours and the anchor, run for run;
    // an external graph of the same weights is checked against TorchSharp first and then timed in the same rotation.
    private static void BenchOnnx(Models.OpenVisionModel model, int[] batchSizes, TimeSpan budget, Onnx.OnnxRuntimeOptions runtime, bool standardOps, int profileRuns,
        string? externalPath, Action<BenchmarkResult> print)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"openvision-bench-onnx-{Guid.NewGuid():N}");
        double error = double.NaN;
        using var external = externalPath is null ? null : CheckedExternal(model, externalPath, runtime, out error);
        try
        {
            var manifest = Onnx.OnnxExporter.Export(model, folder, new Onnx.OnnxExportOptions { Runtime = runtime, StandardOpsOnly = standardOps });
            Console.WriteLine($"{model.Config.Name}: exported ({(standardOps ? "standard operators" : "fused com.microsoft Attention")}), float32 error vs torch {manifest.Validation[0].ImageRelativeError:0.0e+00} (image); ORT threads {(runtime.IntraOpThreads > 0 ? runtime.IntraOpThreads : "per core")}, spinning {(runtime.AllowSpinning ? "on" : "off")}");
            Console.WriteLine($"{"",34} [onnx]: our backend (OnnxBackend); [ort-plain]: a plain ORT session of our graph (the anchor)" +
                (external is null ? "" : $"; [{external.Label}]: a plain ORT session of {externalPath}"));
            using var encoder = Onnx.OnnxBackend.Load(folder, runtime);
            foreach (int batch in batchSizes)
            {
                var run = Onnx.Benchmarks.OnnxBenchmark.Images(encoder, batch, budget, external, external is null ? null : error);
                print(run.Ours);
                print(run.Anchor);
                if (run.External is { } other) print(other);
                Console.WriteLine($"{"",34} ours / plain ORT: {run.Ours.ItemsPerSecond / run.Anchor.ItemsPerSecond:P1} by wall clock, {run.CpuRatio:P1} by process CPU time");
                if (run.External is { } e)
                    Console.WriteLine($"{"",34} {external!.Producer} graph / our graph (both plain ORT): {e.ItemsPerSecond / run.Anchor.ItemsPerSecond:P1} by wall clock, {run.ExternalCpuRatio:P1} by process CPU time");
                if (profileRuns > 0)
                {
                    string vision = Path.Combine(encoder.Folder, encoder.Manifest.FilesFor(runtime.Precision).Vision);
                    PrintProfile("our graph", vision, batch, encoder.ImageSize, runtime, profileRuns, batch == batchSizes[0]);
                    if (external is not null) PrintProfile($"{external.Producer} graph", external.Path, batch, encoder.ImageSize, runtime, profileRuns, batch == batchSizes[0]);
                }
            }
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    // Timing a graph that computes something else means nothing: a mismatch ends the run before any timing.
    private static Onnx.Benchmarks.ExternalVisionGraph CheckedExternal(Models.OpenVisionModel model, string path, Onnx.OnnxRuntimeOptions runtime, out double error)
    {
        var external = Onnx.Benchmarks.ExternalVisionGraph.Open(path, runtime);
        try
        {
            double bound = new Onnx.OnnxExportOptions().Float32Bound;
            var check = external.Check(model, model.Config.VisionCfg.ImageSize, bound);
            string output = check.OutputNormalized ? "L2-normalised output, compared with normalised features" : "output not normalised, as encode_image";
            if (!check.Matches)
                throw new InvalidDataException($"{path} does NOT match TorchSharp's encode_image on the same pixels and weights: max relative error {check.RelativeError:E2} > {bound:E0} " +
                    $"({output}); it computes something else (other weights? give --models the folder the export used), so it is not timed");
            Console.WriteLine($"{path}: producer {external.Producer}, input {external.InputName} [{string.Join(", ", external.InputShape.Select(d => d < 0 ? "N" : d.ToString()))}]; " +
                $"matches TorchSharp's encode_image: max relative error {check.RelativeError:E2} <= {bound:E0} ({output})");
            error = check.RelativeError;
            return external;
        }
        catch
        {
            external.Dispose();
            throw;
        }
    }

    private static void PrintProfile(string what, string path, int batch, int imageSize, Onnx.OnnxRuntimeOptions runtime, int runs, bool printOps)
    {
        string work = Path.Combine(Path.GetTempPath(), $"openvision-onnx-profile-{Environment.ProcessId}");
        var profile = Onnx.Benchmarks.OnnxProfiler.Profile(path, [batch, 3, imageSize, imageSize], runtime, runs, work);
        static string Ops(IReadOnlyDictionary<string, int> ops) => string.Join(" ", ops.Select(o => $"{o.Key}:{o.Value}"));
        if (printOps)
        {
            Console.WriteLine($"  {what} as exported ({profile.ExportedOps.Values.Sum()} nodes): {Ops(profile.ExportedOps)}");
            Console.WriteLine($"  after ORT optimisation ({profile.OptimizedOps.Values.Sum()} nodes): {Ops(profile.OptimizedOps)}");
        }
        double total = profile.Kernels.Sum(k => k.Milliseconds);
        Console.WriteLine($"  profile {what}, batch {batch}, {runs} runs (files in {work}): kernels {total:F1} ms/run, process CPU {1000 * profile.CpuSecondsPerRun:F1} ms/run");
        foreach (var k in profile.Kernels)
            Console.WriteLine($"    {k.OpType,-28} {k.Share,7:P1} {k.Milliseconds,9:F2} ms/run {k.Calls / runs,5} calls/run");
    }

    private static string PromptNoun(int i) => new[] { "dog", "cat", "bicycle", "teapot", "guitar", "lamp", "shoe", "clock" }[i % 8];
}

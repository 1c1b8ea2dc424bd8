using System.Globalization;
using OpenVision.IO;
using OpenVision.Models;
using OpenVision.Onnx;
using TorchSharp;

namespace OpenVision.Lab.Benchmarks.Onnx;

/// <summary>The ONNX part of <c>openvision bench</c>: our ONNX Runtime backend next to a plain ORT session of the same
/// graph (the anchor), optionally an external graph of the same weights, and ORT profiles.</summary>
public static class OnnxComparison
{
    /// <summary>Exports <paramref name="model"/> into a temporary folder (validated as every export is), then times ours and
    /// the anchor in alternating blocks; an external graph is checked against TorchSharp first and then timed in the same blocks.</summary>
    /// <param name="model">The TorchSharp model to export.</param>
    /// <param name="options">Batch sizes, budget, runtime settings, int8 and latency runs.</param>
    /// <param name="print">Receives every throughput row.</param>
    /// <param name="latency">Receives the batch-1 latency of our backend (when latency runs are asked for).</param>
    /// <param name="lines">Receives notes.</param>
    public static void Run(OpenVisionModel model, ThroughputBenchmarkOptions options, Action<BenchmarkResult> print, Action<LatencyResult> latency, IProgress<string> lines)
    {
        var runtime = options.Runtime;
        string folder = ProcessTempFolder.Create("openvision-bench-onnx");
        double error = double.NaN;
        using var external = options.ExternalGraph is null ? null : CheckedExternal(model, options.ExternalGraph, runtime, lines, out error);
        try
        {
            var manifest = OnnxExporter.Export(model, folder, new OnnxExportOptions { Runtime = runtime, Int8 = options.Int8, StandardOpsOnly = options.StandardOps });
            lines.Report($"{model.Config.Name}: exported ({(options.StandardOps ? "standard operators" : "fused com.microsoft Attention")}), float32 error vs torch {manifest.Validation[0].ImageRelativeError:0.0e+00} (image); ORT threads {(runtime.IntraOpThreads > 0 ? runtime.IntraOpThreads : "per core")}, spinning {(runtime.AllowSpinning ? "on" : "off")}");
            lines.Report($"{"",34} [onnx]: our backend (OnnxBackend); [ort-plain]: a plain ORT session of our graph (the anchor)" +
                (external is null ? "" : $"; [{external.Label}]: a plain ORT session of {options.ExternalGraph}"));
            using var encoder = OnnxBackend.Load(folder, runtime);
            using var int8 = options.Int8 ? OnnxBackend.Load(folder, runtime with { Precision = OnnxPrecision.Int8 }) : null;
            if (options.LatencyRuns > 0)
            {
                using var one = torch.randn(1, 3, encoder.ImageSize, encoder.ImageSize, generator: new torch.Generator(0));
                latency(LatencyBenchmark.Time(model.Config.Name, "onnx", () => encoder.EncodeImage(one, normalize: true).Dispose(), options.LatencyRuns));
            }
            foreach (int batch in options.BatchSizes)
            {
                if (int8 is not null) print(EncodeBenchmark.Backend(int8, "encode_image[onnx-int8]", "Int8", batch, options.Budget));
                var run = OnnxBenchmark.Images(encoder, batch, options.Budget, external, external is null ? null : error, options.Torch ? model : null);
                print(run.Ours);
                print(run.Anchor);
                if (run.External is { } other) print(other);
                if (run.Default is { } torchDefault) print(torchDefault);
                lines.Report($"{"",34} ours / plain ORT: {run.Ours.ItemsPerSecond / run.Anchor.ItemsPerSecond:P1} by wall clock, {run.CpuRatio:P1} by process CPU time");
                if (run.DefaultOverOrt is { } ratio)
                    lines.Report(string.Create(CultureInfo.InvariantCulture,
                        $"{"",34} default (TorchSharp) / ORT, same blocks: {ratio:F2}x (goal: at least 1.00x; both ORT paths' calls pooled); / the faster ORT path: {run.DefaultOverFastestOrt:F2}x"));
                if (run.External is { } e)
                    lines.Report($"{"",34} {external!.Producer} graph / our graph (both plain ORT): {e.ItemsPerSecond / run.Anchor.ItemsPerSecond:P1} by wall clock, {run.ExternalCpuRatio:P1} by process CPU time");
                if (options.ProfileRuns > 0)
                {
                    bool first = batch == options.BatchSizes[0];
                    string vision = Path.Combine(encoder.Folder, encoder.Manifest.FilesFor(runtime.Precision).Vision);
                    Profile("our graph", vision, batch, encoder.ImageSize, runtime, options.ProfileRuns, first, lines);
                    if (external is not null) Profile($"{external.Producer} graph", external.Path, batch, encoder.ImageSize, runtime, options.ProfileRuns, first, lines);
                }
            }
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    // Timing a graph that computes something else means nothing: a mismatch ends the run before any timing.
    private static ExternalVisionGraph CheckedExternal(OpenVisionModel model, string path, OnnxRuntimeOptions runtime, IProgress<string> lines, out double error)
    {
        var external = ExternalVisionGraph.Open(path, runtime);
        try
        {
            double bound = new OnnxExportOptions().Float32Bound;
            var check = external.Check(model, model.Config.VisionCfg.ImageSize, bound);
            string output = check.OutputNormalized ? "L2-normalised output, compared with normalised features" : "output not normalised, as encode_image";
            if (!check.Matches)
                throw new InvalidDataException($"{path} does NOT match TorchSharp's encode_image on the same pixels and weights: max relative error {check.RelativeError:E2} > {bound:E0} " +
                    $"({output}); it computes something else (other weights? give --models the folder the export used), so it is not timed");
            lines.Report($"{path}: producer {external.Producer}, input {external.InputName} [{string.Join(", ", external.InputShape.Select(d => d < 0 ? "N" : d.ToString()))}]; " +
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

    private static void Profile(string what, string path, int batch, int imageSize, OnnxRuntimeOptions runtime, int runs, bool printOps, IProgress<string> lines)
    {
        string work = Path.Combine(Path.GetTempPath(), $"openvision-onnx-profile-{Environment.ProcessId}");
        var profile = OnnxProfiler.Profile(path, [batch, 3, imageSize, imageSize], runtime, runs, work);
        static string Ops(IReadOnlyDictionary<string, int> ops) => string.Join(" ", ops.Select(o => $"{o.Key}:{o.Value}"));
        if (printOps)
        {
            lines.Report($"  {what} as exported ({profile.ExportedOps.Values.Sum()} nodes): {Ops(profile.ExportedOps)}");
            lines.Report($"  after ORT optimisation ({profile.OptimizedOps.Values.Sum()} nodes): {Ops(profile.OptimizedOps)}");
        }
        double total = profile.Kernels.Sum(k => k.Milliseconds);
        lines.Report($"  profile {what}, batch {batch}, {runs} runs (files in {work}): kernels {total:F1} ms/run, process CPU {1000 * profile.CpuSecondsPerRun:F1} ms/run");
        foreach (var k in profile.Kernels)
            lines.Report($"    {k.OpType,-28} {k.Share,7:P1} {k.Milliseconds,9:F2} ms/run {k.Calls / runs,5} calls/run");
    }
}

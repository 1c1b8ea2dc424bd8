using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using OpenVision.Lab.Benchmarks;
using OpenVision.Onnx;
using OpenVision.Onnx.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Onnx;

/// <summary>One batch size's figures: our backend, the anchor and, when given, an external graph and the default
/// TorchSharp path.</summary>
/// <param name="Ours">OnnxBackend.EncodeImage (TorchSharp tensor in and out, normalisation included).</param>
/// <param name="Anchor">A plain session of our exported graph.</param>
/// <param name="External">A plain session of the external graph (<see cref="ExternalVisionGraph"/>), or null.</param>
/// <param name="CpuRatio">Ours / anchor speed by process CPU seconds per run (less sensitive to other processes).</param>
/// <param name="ExternalCpuRatio">External / anchor speed by process CPU seconds per run, or null.</param>
/// <param name="Default">The TorchSharp model's EncodeImage (the default path) timed in the same blocks, or null.</param>
/// <param name="PooledOrtItemsPerSecond">ONNX Runtime's rate from the median of both its paths' calls together (ours and
/// the anchor), or null to take the mean of their rates.</param>
public sealed record OnnxBenchmarkRun(BenchmarkResult Ours, BenchmarkResult Anchor, BenchmarkResult? External, double CpuRatio, double? ExternalCpuRatio,
    BenchmarkResult? Default = null, double? PooledOrtItemsPerSecond = null)
{
    /// <summary>The default path's rate over the faster ONNX Runtime path's (ours or the anchor), both from the same
    /// alternating blocks; null without the default path. Both paths run one graph with the same session options, so on
    /// a noisy machine the faster of the two is the luckier one and this ratio reads low; see <see cref="DefaultOverOrt"/>.</summary>
    public double? DefaultOverFastestOrt => Default is null ? null : Default.ItemsPerSecond / Math.Max(Ours.ItemsPerSecond, Anchor.ItemsPerSecond);

    /// <summary>The default path's rate over ONNX Runtime's with both its paths' calls pooled (the same graph and options:
    /// two samples of one backend, not two backends); null without the default path.</summary>
    public double? DefaultOverOrt => Default is null ? null
        : Default.ItemsPerSecond / (PooledOrtItemsPerSecond ?? (Ours.ItemsPerSecond + Anchor.ItemsPerSecond) / 2);
}

/// <summary>encode_image throughput of the ONNX Runtime backend next to its anchor: a plain ONNX Runtime session of the
/// same exported graph, fed a ready OrtValue (no tensor conversion, no normalisation), with the same session settings;
/// optionally also a plain session of a graph from another exporter (the same weights, checked by the caller).</summary>
public static class OnnxBenchmark
{
    /// <summary>The task of the default TorchSharp path's row when it is timed in the ONNX blocks.</summary>
    public const string DefaultTask = "encode_image[default, alt]";

    /// <summary>Times <see cref="OnnxBackend.EncodeImage(Tensor, bool)"/>, the plain session and the external graph in
    /// blocks, forth and back (<see cref="CallTiming.ForthAndBack"/>: not run for run, which timed each session beside the
    /// other's spinning threads), so that load from other processes falls on all alike; wall-clock medians, and process
    /// CPU seconds per run for the ratios.</summary>
    /// <param name="encoder">The backend under test.</param>
    /// <param name="batchSize">Images per call.</param>
    /// <param name="budget">Time budget per path: two blocks of at least 2 timed runs each after one warm-up, or where a
    /// call is slow enough, several rounds of blocks of about two calls (<see cref="CallTiming.InRounds"/>).</param>
    /// <param name="external">Another exporter's graph of the same model, fed the same OrtValue; null for none.</param>
    /// <param name="externalError">The external graph's relative error vs TorchSharp, reported in its row.</param>
    /// <param name="defaultPath">The TorchSharp model whose EncodeImage (the default path) is timed in the same blocks on
    /// the same pixels, so that "the default is at least as fast as ONNX Runtime" rests on alternating figures rather
    /// than on rows timed minutes apart (on a shared machine those differed by 10 % for the same path); null for none.</param>
    public static OnnxBenchmarkRun Images(OnnxBackend encoder, int batchSize, TimeSpan budget, ExternalVisionGraph? external = null, double? externalError = null,
        OpenVision.Models.OpenVisionModel? defaultPath = null)
    {
        int size = encoder.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        var data = pixels.data<float>().ToArray();
        external?.CheckInput(batchSize, 3, size);
        using var sessionOptions = encoder.Options.CreateSessionOptions();
        using var session = new InferenceSession(Path.Combine(encoder.Folder, encoder.Manifest.FilesFor(encoder.Options.Precision).Vision), sessionOptions);
        using var input = OrtValue.CreateTensorValueFromMemory(data, [batchSize, 3, size, size]);
        using var runOptions = new RunOptions();
        OrtValue[] inputs = [input];
        string inputName = encoder.Manifest.Vision.First(t => t.Role == "input").Name, outputName = encoder.Manifest.Vision.First(t => t.Role == "output").Name;

        var paths = new List<TimedPath>
        {
            new(() => encoder.EncodeImage(pixels, normalize: true).Dispose()),
            new(() => { using var _ = session.Run(runOptions, [inputName], inputs, [outputName]); }),
        };
        if (external is not null)
            paths.Add(new(() => { using var _ = external.Session.Run(runOptions, [external.InputName], inputs, [external.OutputName]); }));
        var slowest = TimeSpan.Zero;                                             // one warm-up call each
        foreach (var path in paths)
            if (CallTiming.WarmUp(path.Run, TimeSpan.Zero, minCalls: 1) is var call && call > slowest) slowest = call;
        // The default path is timed here before its own rows: warmed as those are (CallTiming.WarmUp), so that the
        // runtime's recompilation of hot methods does not fall into its timed calls.
        var torchDefault = defaultPath is null ? null : new TimedPath(() => defaultPath.EncodeImage(pixels, normalize: true).Dispose());
        if (torchDefault is not null)
        {
            if (CallTiming.WarmUp(torchDefault.Run, budget, minCalls: 1) is var call && call > slowest) slowest = call;
            paths.Add(torchDefault);
        }
        CallTiming.InRounds([.. paths.Select(p => (p.Run, (Action)p.Measure))], budget, slowest, maximumPerBlock: 25);

        string name = encoder.Config.Name, dtype = encoder.Options.Precision.ToString();
        double flops = VisionFlops.PerImage(encoder.Config, size);
        BenchmarkResult Result(string task, TimedPath path, double? error = null)
        {
            double rate = batchSize / Median(path.Times);
            return new BenchmarkResult(name, task, dtype, batchSize, rate, rate * flops / 1e9, error);
        }
        return new OnnxBenchmarkRun(Result("encode_image[onnx]", paths[0]), Result("encode_image[ort-plain]", paths[1]),
            external is null ? null : Result($"encode_image[{external.Label}]", paths[2], externalError),
            paths[1].CpuSeconds / paths[0].CpuSeconds, external is null ? null : paths[1].CpuSeconds / paths[2].CpuSeconds,
            torchDefault is null ? null : Result(DefaultTask, torchDefault) with { DType = "Float32" },
            batchSize / Median([.. paths[0].Times, .. paths[1].Times]));
    }

    private sealed class TimedPath(Action run)
    {
        public Action Run { get; } = run;
        public List<double> Times { get; } = [];
        public double CpuSeconds { get; private set; }

        public void Measure()
        {
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            Run();
            Times.Add(clock.Elapsed.TotalSeconds);
            process.Refresh();
            CpuSeconds += (process.TotalProcessorTime - cpu).TotalSeconds;
        }
    }

    private static double Median(List<double> times)
    {
        var sorted = times.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using OpenVision.Benchmarks;
using OpenVision.Onnx.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Benchmarks;

/// <summary>encode_image throughput of the ONNX Runtime backend next to its anchor: a plain ONNX Runtime session of the
/// same exported graph, fed a ready OrtValue (no tensor conversion, no normalisation), with the same session settings.</summary>
public static class OnnxBenchmark
{
    /// <summary>Times <see cref="OnnxEncoder.EncodePixels(Tensor, bool)"/> and the plain session alternately, run for run and
    /// swapping which goes first, so that load from other processes falls on both alike; returns (ours, anchor) with
    /// wall-clock medians, and the ratio of process CPU seconds per run (less sensitive to other processes).</summary>
    /// <param name="encoder">The backend under test.</param>
    /// <param name="batchSize">Images per call.</param>
    /// <param name="budget">Time budget per path (at least 3 timed runs each after one warm-up).</param>
    public static (BenchmarkResult Ours, BenchmarkResult Anchor, double CpuRatio) Images(OnnxEncoder encoder, int batchSize, TimeSpan budget)
    {
        int size = encoder.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        var data = pixels.data<float>().ToArray();
        using var sessionOptions = encoder.Options.CreateSessionOptions();
        using var session = new InferenceSession(Path.Combine(encoder.Folder, encoder.Manifest.FilesFor(encoder.Options.Precision).Vision), sessionOptions);
        using var input = OrtValue.CreateTensorValueFromMemory(data, [batchSize, 3, size, size]);
        using var runOptions = new RunOptions();
        string[] inputNames = [VisionGraph.PixelsName], outputNames = [VisionGraph.FeaturesName];
        OrtValue[] inputs = [input];

        void Ours() => encoder.EncodePixels(pixels).Dispose();
        void Anchor() { using var _ = session.Run(runOptions, inputNames, inputs, outputNames); }
        Ours();
        Anchor();
        var ours = new List<double>();
        var anchor = new List<double>();
        double oursCpu = 0, anchorCpu = 0;
        var total = Stopwatch.StartNew();
        while (ours.Count < 3 || (total.Elapsed < 2 * budget && ours.Count < 50))
        {
            if (ours.Count % 2 == 0)
            {
                ours.Add(Time(Ours, ref oursCpu));
                anchor.Add(Time(Anchor, ref anchorCpu));
            }
            else
            {
                anchor.Add(Time(Anchor, ref anchorCpu));
                ours.Add(Time(Ours, ref oursCpu));
            }
        }
        string name = encoder.Config.Name, dtype = encoder.Options.Precision.ToString();
        double flops = VisionFlops.PerImage(encoder.Config, size);
        BenchmarkResult Result(string task, List<double> times)
        {
            double rate = batchSize / Median(times);
            return new BenchmarkResult(name, task, dtype, batchSize, rate, rate * flops / 1e9, null);
        }
        return (Result("encode_image[onnx]", ours), Result("encode_image[ort-plain]", anchor), anchorCpu / oursCpu);
    }

    private static double Time(Action run, ref double cpuSeconds)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        run();
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        cpuSeconds += (process.TotalProcessorTime - cpu).TotalSeconds;
        return wall;
    }

    private static double Median(List<double> times)
    {
        var sorted = times.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

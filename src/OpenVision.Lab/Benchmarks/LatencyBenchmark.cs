using OpenVision.Onnx.Selection;
using System.Diagnostics;
using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Latency percentiles of <see cref="OpenVisionModel.EncodeImage"/> on single calls after warm-up.</summary>
public static class LatencyBenchmark
{
    /// <summary>Times <paramref name="runs"/> calls of batch <paramref name="batchSize"/> once warm (see <see cref="Time"/>).</summary>
    public static LatencyResult Images(OpenVisionModel model, int runs, int batchSize = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        int size = model.Config.VisionCfg.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        return Time(model.Config.Name, "torch", () => model.EncodeImage(pixels).Dispose(), runs, batchSize);
    }

    /// <summary>Times <paramref name="runs"/> calls of <paramref name="run"/> (one batch each) once warm
    /// (<see cref="CallTiming.WarmUp"/>, at least three calls).</summary>
    public static LatencyResult Time(string model, string backend, Action run, int runs, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        CallTiming.WarmUp(run, minCalls: 3);
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return new LatencyResult(model, batchSize, runs, Percentile(times, 50), Percentile(times, 99), torch.get_num_threads(), backend);
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="percent"/> % of the values at or below it.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[rank - 1];
    }
}

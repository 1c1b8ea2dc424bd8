using System.Diagnostics;
using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Latency percentiles of <see cref="OpenVisionModel.EncodeImage"/> on single calls after warm-up.</summary>
public static class LatencyBenchmark
{
    /// <summary>Times <paramref name="runs"/> calls of batch <paramref name="batchSize"/> after three warm-up calls.</summary>
    public static LatencyResult Images(OpenVisionModel model, int runs, int batchSize = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        int size = model.Config.VisionCfg.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        for (int i = 0; i < 3; i++) model.EncodeImage(pixels).Dispose();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            model.EncodeImage(pixels).Dispose();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return new LatencyResult(model.Config.Name, batchSize, runs, Percentile(times, 50), Percentile(times, 99), torch.get_num_threads());
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

using System.Diagnostics;
using System.Globalization;
using OpenVision.Backends;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Selection;

/// <summary>Measures which of two backends of the same model encodes images faster at each batch size: seeded random
/// pixels, one warm-up call each, then timed calls alternating between the two (so that load from other processes falls
/// on both alike) until the budget is spent, at least three each; the medians decide.</summary>
public static class BackendChoiceMeasurement
{
    /// <summary>The batch sizes measured unless the caller says otherwise: single requests, a small and a full batch.</summary>
    public static IReadOnlyList<int> DefaultBatchSizes { get; } = [1, 8, 32];

    /// <summary>Times <paramref name="torchBackend"/> against <paramref name="onnxBackend"/> at every batch size.</summary>
    /// <param name="torchBackend">The TorchSharp backend.</param>
    /// <param name="onnxBackend">The ONNX Runtime backend of the same model and resolution.</param>
    /// <param name="batchSizes">Batch sizes to measure; null for <see cref="DefaultBatchSizes"/>.</param>
    /// <param name="budget">Time per batch size for both backends together (at least three timed calls each).</param>
    public static BackendChoice Measure(IEncoderBackend torchBackend, IEncoderBackend onnxBackend, IReadOnlyList<int>? batchSizes = null, TimeSpan? budget = null)
    {
        ArgumentNullException.ThrowIfNull(torchBackend);
        ArgumentNullException.ThrowIfNull(onnxBackend);
        if (torchBackend.ImageSize != onnxBackend.ImageSize)
            throw new ArgumentException($"the backends run at different resolutions ({torchBackend.ImageSize} and {onnxBackend.ImageSize} px)");
        batchSizes ??= DefaultBatchSizes;
        if (batchSizes.Count == 0 || batchSizes.Any(b => b < 1)) throw new ArgumentException("batch sizes must be positive", nameof(batchSizes));
        var span = budget ?? TimeSpan.FromSeconds(1.5);
        double load = LoadAverage();
        var rates = new List<BackendRate>();
        foreach (int batch in batchSizes.Distinct().Order())
        {
            int size = torchBackend.ImageSize;
            using var pixels = randn(batch, 3, size, size, generator: new Generator(0));
            Action runTorch = () => torchBackend.EncodeImage(pixels, normalize: true).Dispose();
            Action runOnnx = () => onnxBackend.EncodeImage(pixels, normalize: true).Dispose();
            runTorch();
            runOnnx();
            var torchTimes = new List<double>();
            var onnxTimes = new List<double>();
            var total = Stopwatch.StartNew();
            for (int round = 0; torchTimes.Count < 3 || total.Elapsed < span; round++)
            {
                // Who goes first alternates: the second call of a pair can find the other's threads still spinning.
                if (round % 2 == 0) { torchTimes.Add(Time(runTorch)); onnxTimes.Add(Time(runOnnx)); }
                else { onnxTimes.Add(Time(runOnnx)); torchTimes.Add(Time(runTorch)); }
            }
            rates.Add(new BackendRate(batch, batch / Median(torchTimes), batch / Median(onnxTimes)));
        }
        return new BackendChoice(torchBackend.Config.Name, torchBackend.ImageSize, CpuIdentity(), rates, load, DateTime.UtcNow);
    }

    /// <summary>The CPU model and the number of logical processors, the key of a machine in <see cref="BackendChoiceCache"/>.</summary>
    public static string CpuIdentity()
    {
        string model = "unknown";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
                    ? line[(line.IndexOf(':') + 1)..].Trim() : model;
        }
        catch (IOException) { }
        return $"{model} x{Environment.ProcessorCount}";
    }

    /// <summary>The 1-minute load average from /proc/loadavg, NaN where there is none.</summary>
    public static double LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load)
                ? load : double.NaN;
        }
        catch (IOException) { return double.NaN; }
    }

    private static double Time(Action run)
    {
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> times)
    {
        times.Sort();
        return times[times.Count / 2];
    }
}

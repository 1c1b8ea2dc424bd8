using System.Diagnostics;
using System.Globalization;
using OpenVision.Backends;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Selection;

/// <summary>Measures which of several paths of the same model (backends, precisions) encodes images fastest at each
/// batch size: seeded random pixels, warm-up calls (<see cref="CallTiming.WarmUp"/>, at most 2 s) each, then timed calls in
/// blocks forth and back, in rounds where calls are short enough (<see cref="CallTiming.InRounds"/>: load from other processes falls on all alike, and no path is timed beside another's
/// spinning threads) until the budget is spent, at least four each; medians.</summary>
public static class BackendChoiceMeasurement
{
    /// <summary>The batch sizes measured unless the caller says otherwise: single requests, a small and a full batch.</summary>
    public static IReadOnlyList<int> DefaultBatchSizes { get; } = [1, 8, 32];

    /// <summary>Times every candidate at every batch size.</summary>
    /// <param name="candidates">Named backends of the same model at the same resolution; the first is the default path.</param>
    /// <param name="batchSizes">Batch sizes to measure; null for <see cref="DefaultBatchSizes"/>.</param>
    /// <param name="budget">Time per batch size for all candidates together (at least four timed calls each).</param>
    public static BackendChoice Measure(IReadOnlyList<(string Name, IEncoderBackend Backend)> candidates, IReadOnlyList<int>? batchSizes = null, TimeSpan? budget = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new ArgumentException("no candidates to measure", nameof(candidates));
        var first = candidates[0].Backend;
        foreach (var (name, backend) in candidates)
            if (backend.ImageSize != first.ImageSize || backend.Config.Name != first.Config.Name)
                throw new ArgumentException($"the candidates run different models ({first.Config.Name} at {first.ImageSize} px, {name}: {backend.Config.Name} at {backend.ImageSize} px)");
        batchSizes ??= DefaultBatchSizes;
        if (batchSizes.Count == 0 || batchSizes.Any(b => b < 1)) throw new ArgumentException("batch sizes must be positive", nameof(batchSizes));
        var span = budget ?? TimeSpan.FromSeconds(0.75 * candidates.Count);
        double load = LoadAverage();
        var rates = new List<BackendRate>();
        foreach (int batch in batchSizes.Distinct().Order())
        {
            int size = first.ImageSize;
            using var pixels = randn(batch, 3, size, size, generator: new Generator(0));
            var runs = candidates.Select(c => (Action)(() => c.Backend.EncodeImage(pixels, normalize: true).Dispose())).ToList();
            var slowest = TimeSpan.Zero;
            foreach (var run in runs)
                if (CallTiming.WarmUp(run, TimeSpan.FromSeconds(2), minCalls: 1) is var call && call > slowest) slowest = call;
            var times = runs.Select(_ => new List<double>()).ToList();
            CallTiming.InRounds([.. runs.Select((run, i) => (run, (Action)(() => times[i].Add(Time(run)))))], span / runs.Count, slowest);
            rates.Add(new BackendRate(batch, times.Select(t => batch / Median(t)).ToList()));
        }
        return new BackendChoice(first.Config.Name, first.ImageSize, CpuIdentity(), candidates.Select(c => c.Name).ToList(), rates, load, DateTime.UtcNow);
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

using System.Diagnostics;
using System.Globalization;
using OpenVision.Backends;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Selection;

/// <summary>Measures which of several paths of the same model (backends, precisions) encodes images fastest at each
/// batch size: seeded random pixels, warm-up calls (<see cref="CallTiming.WarmUp"/>, at most 2 s) each, then timed calls in
/// blocks forth and back (<see cref="CallTiming.ForthAndBack"/>: load from other processes falls on all alike, and no path is timed beside another's
/// spinning threads) until the budget is spent, at least four each; medians. A path far slower than the fastest on its first
/// call is not timed further (<see cref="SlowFactor"/>).</summary>
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
        var dropped = new bool[candidates.Count];
        foreach (int batch in batchSizes.Distinct().Order())
        {
            int size = first.ImageSize;
            using var pixels = randn(batch, 3, size, size, generator: new Generator(0));
            var runs = candidates.Select(c => (Action)(() => c.Backend.EncodeImage(pixels, normalize: true).Dispose())).ToList();
            // Each path's fastest of its first calls; a second call for all when one took long, because a first call can be
            // slow for reasons of its own (compilation, allocation), the fastest path's included.
            var early = new double[runs.Count];
            for (int i = 0; i < runs.Count; i++) early[i] = dropped[i] ? double.NaN : Time(runs[i]);
            if (early.Skip(1).Any(t => t > SlowCallSeconds))
                for (int i = 0; i < runs.Count; i++) if (!dropped[i]) early[i] = Math.Min(early[i], Time(runs[i]));
            double fastest = early.Where(t => !double.IsNaN(t)).Min();
            var rate = new double[runs.Count];
            var timed = new List<int>();
            for (int i = 0; i < runs.Count; i++)
            {
                if (dropped[i]) rate[i] = double.NaN;
                else if (i > 0 && early[i] > SlowCallSeconds && early[i] > SlowFactor * fastest)
                {
                    dropped[i] = true;
                    rate[i] = batch / early[i];
                }
                else timed.Add(i);
            }
            foreach (int i in timed) CallTiming.WarmUp(runs[i], TimeSpan.FromSeconds(2), minCalls: 1);
            var times = timed.Select(_ => new List<double>()).ToList();
            CallTiming.ForthAndBack([.. timed.Select((c, k) => (runs[c], (Action)(() => times[k].Add(Time(runs[c])))))], span / (2 * runs.Count));
            for (int k = 0; k < timed.Count; k++) rate[timed[k]] = batch / Median(times[k]);
            rates.Add(new BackendRate(batch, rate));
        }
        return new BackendChoice(first.Config.Name, first.ImageSize, CpuIdentity(), candidates.Select(c => c.Name).ToList(), rates, load, DateTime.UtcNow);
    }

    /// <summary>A path is dropped when its first two calls at a batch size each take more than this many times the fastest
    /// of every path's first two calls, and over <see cref="SlowCallSeconds"/>: bf16 where the CPU has no bf16 arithmetic (libtorch emulates
    /// it hundreds of times slower than fp32; seven calls of ViT-Ti at batch 32 would take half an hour) cannot win, and
    /// its rate from the faster of those calls says so. A dropped path is not run at larger batch sizes (its rate there is NaN).
    /// The first path, the default, is always timed.</summary>
    public const double SlowFactor = 20;

    /// <summary>A path whose early calls take less than this is never dropped: timing it in full costs little.</summary>
    public const double SlowCallSeconds = 1;

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

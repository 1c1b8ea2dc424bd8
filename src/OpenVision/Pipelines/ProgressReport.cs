namespace OpenVision.Pipelines;

/// <summary>Progress of a long job, for progress bars: counts, rate and estimated time left.</summary>
/// <param name="Done">Items processed (including skipped ones).</param>
/// <param name="Total">Items in the job, if known.</param>
/// <param name="Skipped">Items that could not be processed.</param>
/// <param name="ItemsPerSecond">Average rate since the start.</param>
/// <param name="Elapsed">Time since the start.</param>
public sealed record ProgressReport(long Done, long? Total, long Skipped, double ItemsPerSecond, TimeSpan Elapsed)
{
    /// <summary>Estimated time left, when the total is known and the rate is positive.</summary>
    public TimeSpan? Eta => Total is { } total && ItemsPerSecond > 0 ? TimeSpan.FromSeconds((total - Done) / ItemsPerSecond) : null;

    /// <summary>One line such as "1200/5000 (24.0%) 85.3 items/s ETA 00:44, 2 skipped".</summary>
    public string Format(string unit = "items")
    {
        string of = Total is { } t ? $"{Done}/{t} ({100.0 * Done / Math.Max(t, 1):F1}%)" : $"{Done}";
        string eta = Eta is { } e ? $" ETA {(int)e.TotalMinutes:D2}:{e.Seconds:D2}" : "";
        string skipped = Skipped > 0 ? $", {Skipped} skipped" : "";
        return $"{of} {ItemsPerSecond:F1} {unit}/s{eta}{skipped}";
    }
}

/// <summary>Counts items against a clock and produces <see cref="ProgressReport"/>s.</summary>
public sealed class ProgressMeter(long? total)
{
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private long done, skipped;

    /// <summary>Records processed and skipped items and returns the current report.</summary>
    public ProgressReport Add(long processed, long skippedNow = 0)
    {
        done += processed + skippedNow;
        skipped += skippedNow;
        return Current;
    }

    /// <summary>The report now.</summary>
    public ProgressReport Current
    {
        get
        {
            var elapsed = clock.Elapsed;
            double rate = elapsed.TotalSeconds > 0 ? (done - skipped) / elapsed.TotalSeconds : 0;
            return new ProgressReport(done, total, skipped, rate, elapsed);
        }
    }
}

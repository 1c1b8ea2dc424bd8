using System.Collections.Concurrent;

namespace OpenVision.Training.Data;

/// <summary>Counts skipped samples by reason and keeps the most recent ones; thread-safe. The data path never
/// throws on a bad sample: it records it here (and raises <see cref="Skipped"/>) and moves on.</summary>
/// <remarks>Counts are per process: a run resumed mid-epoch reads its skipped prefix again and counts its corrupt
/// samples a second time.</remarks>
public sealed class SkipLog
{
    private readonly ConcurrentDictionary<SkipReason, long> _counts = new();
    private readonly ConcurrentQueue<SkippedSample> _recent = new();
    private long _total;

    /// <summary>How many recent skips <see cref="Recent"/> keeps.</summary>
    public int RecentCapacity { get; init; } = 100;

    /// <summary>Raised on the thread that found the bad sample.</summary>
    public event EventHandler<SkippedSample>? Skipped;

    /// <summary>Skips recorded so far.</summary>
    public long Count => Interlocked.Read(ref _total);

    /// <summary>Skips per reason.</summary>
    public IReadOnlyDictionary<SkipReason, long> CountsByReason => new Dictionary<SkipReason, long>(_counts);

    /// <summary>The last <see cref="RecentCapacity"/> skips, oldest first.</summary>
    public IReadOnlyList<SkippedSample> Recent => [.. _recent];

    /// <summary>Records one skip.</summary>
    public void Add(SkippedSample skipped)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        _counts.AddOrUpdate(skipped.Reason, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _total);
        _recent.Enqueue(skipped);
        while (_recent.Count > RecentCapacity && _recent.TryDequeue(out _)) { }
        Skipped?.Invoke(this, skipped);
    }

    /// <summary>Records one skip from its parts.</summary>
    public void Add(string source, string key, SkipReason reason, string detail) => Add(new SkippedSample(source, key, reason, detail));

    /// <summary>One line such as "3 skipped (UndecodableImage 2, MissingAltText 1)", or "none skipped".</summary>
    public string Summary()
    {
        var counts = CountsByReason;
        if (counts.Count == 0) return "none skipped";
        return $"{Count} skipped ({string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"))})";
    }
}

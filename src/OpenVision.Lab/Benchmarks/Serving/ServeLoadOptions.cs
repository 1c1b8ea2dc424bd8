using OpenVision.Serving;

namespace OpenVision.Lab.Benchmarks.Serving;

/// <summary>What <see cref="ServeLoadBenchmark"/> measures: every client count, with dynamic batching on and/or off.</summary>
public sealed record ServeLoadOptions
{
    /// <summary>Concurrent client counts, one run each.</summary>
    public IReadOnlyList<int> ClientCounts { get; init; } = [1, 8, 32];

    /// <summary>Server settings to compare: true = dynamic batching on, false = one model call per request.</summary>
    public IReadOnlyList<bool> Batching { get; init; } = [true, false];

    /// <summary>Time budget of each measured run.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Request budget of each measured run (null: only the time budget counts).</summary>
    public long? MaxRequests { get; init; }

    /// <summary>Largest model call when batching (items).</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Requests per client sent before each measured run (JIT, connections, allocator) and not counted.</summary>
    public int WarmupRequestsPerClient { get; init; } = 2;

    /// <summary>Checks the settings, naming the bad one.</summary>
    public void Validate()
    {
        if (ClientCounts.Count == 0 || ClientCounts.Any(c => c < 1)) throw new ArgumentException("client counts must be at least 1");
        if (Batching.Count == 0) throw new ArgumentException("choose batching on, off or both");
        if (Duration <= TimeSpan.Zero) throw new ArgumentException($"the run time must be positive, got {Duration.TotalSeconds} s");
        if (MaxRequests is < 1) throw new ArgumentException($"the request budget must be at least 1, got {MaxRequests}");
        if (MaxBatchSize < 1) throw new ArgumentException($"the largest batch must be at least 1, got {MaxBatchSize}");
        if (WarmupRequestsPerClient < 0) throw new ArgumentException("warm-up requests cannot be negative");
    }
}

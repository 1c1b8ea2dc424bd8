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

    /// <summary>How long a batch waits for more items once the model is free (the server's setting, checked by it).</summary>
    public TimeSpan BatchDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Load sent once, before the first measured run, spread over the client counts and not counted: the
    /// first seconds of a process run up to ~20 % slower (the JIT's later tiers compile in the background, on cores
    /// the load keeps busy), which a few requests per client do not cover and which would favour whichever
    /// configuration runs last (Tiny, one client, three runs in a row: 38 / 45 / 43 requests/s after 3 s of
    /// warm-up, 53 / 57 / 49 after 12 s).</summary>
    public TimeSpan InitialWarmup { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests per client sent before each measured run (connections, the client count's batch shapes) and not counted.</summary>
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
        if (InitialWarmup < TimeSpan.Zero) throw new ArgumentException("the initial warm-up cannot be negative");
    }
}

namespace OpenVision.Training.Distributed;

/// <summary>Runtime settings of a <see cref="CollectiveContext"/>.</summary>
public sealed record DistributedOptions
{
    /// <summary>Largest gradient bucket in bytes; tensors are packed into buckets so that many small gradients
    /// cost a few all-reduces, not hundreds (PyTorch DDP's <c>bucket_cap_mb</c> default, 25 MiB).</summary>
    public long BucketBytes { get; init; } = 25L << 20;

    /// <summary>A collective that has not returned after this long aborts the whole job (a peer hung or its
    /// network went away), instead of waiting forever. Include the slowest peer's step time in it.</summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Exit code of every process when the watchdog aborts the job (124, as <c>timeout</c> uses).</summary>
    public int TimeoutExitCode { get; init; } = 124;

    /// <summary>Receives a one-line explanation just before the watchdog aborts the job (e.g. to write to stderr).</summary>
    public Action<string>? OnTimeout { get; init; }
}

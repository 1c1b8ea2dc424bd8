using OpenVision.Search;

namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>What <see cref="IndexBenchmark"/> measures: every (dimensions, vectors) pair.</summary>
public sealed record IndexBenchmarkOptions
{
    /// <summary>Index sizes in vectors.</summary>
    public IReadOnlyList<long> Sizes { get; init; } = [10_000, 100_000, 1_000_000];

    /// <summary>Vector lengths (512: Base/16 and smaller; 1024: Large/14 and OpenVision 2's encoders).</summary>
    public IReadOnlyList<int> Dimensions { get; init; } = [512, 1024];

    /// <summary>Queries per configuration, for HNSW latency percentiles and recall.</summary>
    public int Queries { get; init; } = 200;

    /// <summary>How many of the queries are also timed one at a time against exact search (each reads every vector,
    /// so at a million vectors this is the slow part); the rest of the ground truth is computed in batches.</summary>
    public int ExactLatencyQueries { get; init; } = 200;

    /// <summary>Search expansions (ef) to measure on each built graph; null measures only <see cref="Hnsw"/>'s.</summary>
    public IReadOnlyList<int>? SearchExpansions { get; init; }

    /// <summary>Cluster centres of the synthetic vectors (real embeddings cluster by content).</summary>
    public int Clusters { get; init; } = 1000;

    /// <summary>The HNSW settings under test (the library's defaults unless overridden).</summary>
    public HnswOptions Hnsw { get; init; } = new();

    /// <summary>Seed of the synthetic data.</summary>
    public int Seed { get; init; }

    /// <summary>Where graph files are written and measured (deleted afterwards); null uses a temporary folder.</summary>
    public string? Folder { get; init; }
}

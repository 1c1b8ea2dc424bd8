namespace OpenVision.Search;

/// <summary>How <see cref="ImageIndexBuilder"/> embeds and indexes.</summary>
public sealed record IndexBuildOptions
{
    /// <summary>Images per model call (and per commit of the index files).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Whether to keep an HNSW graph: null builds one once the index holds
    /// <see cref="ApproximateFromRows"/> rows, true always, false never.</summary>
    public bool? Approximate { get; init; }

    /// <summary>Rows from which an HNSW graph is kept when <see cref="Approximate"/> is null. Below it exact search
    /// answers in milliseconds and the graph would only cost build time.</summary>
    public long ApproximateFromRows { get; init; } = 50_000;

    /// <summary>Graph settings for a new graph (an existing graph keeps its own).</summary>
    public HnswOptions Hnsw { get; init; } = new();
}

/// <summary>What a build or add did.</summary>
/// <param name="Added">Rows embedded by this run.</param>
/// <param name="AlreadyIndexed">Inputs skipped because the index already held their key.</param>
/// <param name="Skipped">Inputs that could not be decoded in this run.</param>
/// <param name="Total">Rows in the index afterwards.</param>
/// <param name="ImagesPerSecond">Embedding rate of this run.</param>
/// <param name="HnswRows">Rows in the HNSW graph afterwards (0 when there is none).</param>
public sealed record IndexBuildReport(long Added, long AlreadyIndexed, IReadOnlyList<SkippedInput> Skipped, long Total, double ImagesPerSecond, long HnswRows);

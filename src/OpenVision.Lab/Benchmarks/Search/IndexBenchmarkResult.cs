using System.Globalization;

namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>One measured configuration.</summary>
/// <param name="Dimensions">Vector length.</param>
/// <param name="Vectors">Vectors in the index.</param>
/// <param name="ExpansionSearch">The HNSW search expansion (ef) the HNSW columns were measured with.</param>
/// <param name="HnswBuildPerSecond">HNSW inserts per second (all cores).</param>
/// <param name="HnswMemoryBytes">The graph's memory as USearch reports it.</param>
/// <param name="HnswFileBytes">hnsw.usearch on disk.</param>
/// <param name="VectorFileBytes">vectors.f32 on disk (N × D × 4; exact search reads it whole into memory).</param>
/// <param name="ExactP50Ms">Median latency of one exact query.</param>
/// <param name="ExactP99Ms">99th-percentile latency of one exact query.</param>
/// <param name="ExactBatchQueriesPerSecond">Exact queries per second answered in batches of 100 (one matrix product each).</param>
/// <param name="HnswP50Ms">Median latency of one HNSW query.</param>
/// <param name="HnswP99Ms">99th-percentile latency of one HNSW query.</param>
/// <param name="HnswQueriesPerSecond">HNSW queries per second, one at a time on one thread.</param>
/// <param name="RecallAt10">Share of the exact top 10 that HNSW returns in its top 10.</param>
/// <param name="StorageCeilingAt10">Recall@10 of exact search over the vectors rounded to the graph's storage (f16,
/// bf16): what no search expansion can exceed. Null for i8.</param>
/// <param name="PeakRssBytes">Peak resident memory of the process during this configuration.</param>
public sealed record IndexBenchmarkResult(int Dimensions, long Vectors, int ExpansionSearch, double HnswBuildPerSecond, long HnswMemoryBytes, long HnswFileBytes,
    long VectorFileBytes, double ExactP50Ms, double ExactP99Ms, double ExactBatchQueriesPerSecond, double HnswP50Ms, double HnswP99Ms,
    double HnswQueriesPerSecond, double RecallAt10, double? StorageCeilingAt10, long PeakRssBytes)
{
    /// <summary>Column titles matching <see cref="ToRow"/>.</summary>
    public static string Header =>
        "| dims | vectors | ef | HNSW build/s | HNSW MiB (mem / file) | vectors.f32 MiB | exact p50 / p99 ms | exact batch q/s | HNSW p50 / p99 ms | HNSW q/s | recall@10 | storage ceiling | peak RSS MiB |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// <summary>One Markdown table row (invariant culture).</summary>
    public string ToRow() => string.Format(CultureInfo.InvariantCulture,
        "| {0} | {1:N0} | {14} | {2:N0} | {3:N0} / {4:N0} | {5:N0} | {6:F2} / {7:F2} | {8:N0} | {9:F3} / {10:F3} | {11:N0} | {12:F4} | {15} | {13:N0} |",
        Dimensions, Vectors, HnswBuildPerSecond, HnswMemoryBytes / 1048576.0, HnswFileBytes / 1048576.0, VectorFileBytes / 1048576.0,
        ExactP50Ms, ExactP99Ms, ExactBatchQueriesPerSecond, HnswP50Ms, HnswP99Ms, HnswQueriesPerSecond, RecallAt10, PeakRssBytes / 1048576.0, ExpansionSearch,
        StorageCeilingAt10?.ToString("F4", CultureInfo.InvariantCulture) ?? "–");
}

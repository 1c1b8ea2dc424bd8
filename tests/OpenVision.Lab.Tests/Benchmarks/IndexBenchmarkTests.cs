using OpenVision.Lab.Benchmarks.Search;
using OpenVision.Search;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary><see cref="IndexBenchmark"/>'s search-expansion sweep: one build, one row per ef, and the ef actually
/// reaches the graph (a sparse graph searched greedily recalls less than one searched exhaustively).</summary>
public sealed class IndexBenchmarkTests
{
    private static IndexBenchmarkOptions Small(string folder, params int[] expansions) => new()
    {
        Sizes = [2000], Dimensions = [32], Queries = 100, ExactLatencyQueries = 20, Clusters = 20, Folder = folder,
        Hnsw = new HnswOptions { Connectivity = 4, ExpansionAdd = 8, Threads = 1 },
        SearchExpansions = expansions,
    };

    [Fact]
    public void ASweepMeasuresEveryExpansionOnOneBuild()
    {
        using var temp = new TempDirectory();
        var rows = IndexBenchmark.Run(Small(temp.Path, 1, 2000));
        Assert.Equal([1, 2000], rows.Select(r => r.ExpansionSearch));
        Assert.All(rows, r => Assert.Equal((2000, 32), (r.Vectors, r.Dimensions)));
        Assert.Equal(rows[0].HnswBuildPerSecond, rows[1].HnswBuildPerSecond);     // the same build, reported twice
        Assert.Equal(rows[0].HnswFileBytes, rows[1].HnswFileBytes);
        Assert.True(rows[0].RecallAt10 < rows[1].RecallAt10, $"recall@10 {rows[0].RecallAt10} at ef 1, {rows[1].RecallAt10} at ef 2000");
        Assert.True(rows[1].RecallAt10 >= 0.99, $"recall@10 {rows[1].RecallAt10} with a beam as wide as the graph");
        Assert.Contains("| 2000 |", rows[1].ToRow());
        Assert.Empty(Directory.GetFiles(temp.Path));     // the graph file was measured and removed
    }

    [Fact]
    public void AnExpansionBelowOneIsRefusedBeforeAnythingIsBuilt()
    {
        using var temp = new TempDirectory();
        Assert.Throws<ArgumentException>(() => IndexBenchmark.Run(Small(temp.Path, 64, 0)));
        Assert.Throws<ArgumentException>(() => IndexBenchmark.Run(Small(temp.Path)));
    }
}

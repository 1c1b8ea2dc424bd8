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
        Hnsw = new HnswOptions { Connectivity = 4, ExpansionAdd = 8, Quantization = "f32", Threads = 1 },
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
        Assert.Contains("| 2000 |", rows[1].ToRow());
        Assert.Empty(Directory.GetFiles(temp.Path));     // the graph file was measured and removed
    }

    [Fact]
    public void HalfPrecisionStorageCapsRecallWhereTheCeilingSays()
    {
        using var temp = new TempDirectory();
        // A well-connected graph searched with a beam as wide as it is: what it misses, storage rounding made it miss.
        var options = Small(temp.Path, 2000) with { Hnsw = new HnswOptions { Connectivity = 16, ExpansionAdd = 64, Quantization = "f32", Threads = 1 } };
        var f32 = IndexBenchmark.Run(options).Single();
        Assert.Equal(1.0, f32.StorageCeilingAt10);
        Assert.True(f32.RecallAt10 >= 0.995, $"f32 recall@10 {f32.RecallAt10} with an exhaustive beam");
        var f16 = IndexBenchmark.Run(options with { Hnsw = options.Hnsw with { Quantization = "f16" } }).Single();
        // On these tightly clustered vectors rounding to f16 swaps near-tied neighbours: the ceiling is below 1, and the
        // exhaustive beam over the f16 graph lands on it (up to ties between equal rounded scores and f32's own misses).
        Assert.True(f16.StorageCeilingAt10 < 1.0, $"ceiling {f16.StorageCeilingAt10}: nothing was rounded");
        Assert.InRange(f16.RecallAt10, f16.StorageCeilingAt10!.Value - 0.005 - (1 - f32.RecallAt10), f16.StorageCeilingAt10.Value + 0.005);
        Assert.Null(IndexBenchmark.Run(options with { Hnsw = options.Hnsw with { Quantization = "i8" } }).Single().StorageCeilingAt10);
    }

    [Fact]
    public void AnExpansionBelowOneIsRefusedBeforeAnythingIsBuilt()
    {
        using var temp = new TempDirectory();
        Assert.Throws<ArgumentException>(() => IndexBenchmark.Run(Small(temp.Path, 64, 0)));
        Assert.Throws<ArgumentException>(() => IndexBenchmark.Run(Small(temp.Path)));
    }
}

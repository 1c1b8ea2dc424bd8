namespace OpenVision.Search.Tests;

/// <summary>The search expansion (ef) is a search-time setting: changed on a built graph or on opening a saved one, it
/// changes what a search explores. The graph is built deliberately sparse (M 4, efConstruction 8) so that a greedy
/// search (ef 1) misses neighbours that a search exploring every node cannot miss.</summary>
public sealed class HnswExpansionTests : IDisposable
{
    private const int Dims = 48, Rows = 3000, Queries = 300;
    private static readonly HnswOptions Sparse = new() { Connectivity = 4, ExpansionAdd = 8, Quantization = "f32", Threads = 1 };
    private readonly string folder = Directory.CreateTempSubdirectory("ov-hnsw-ef-").FullName;
    private readonly float[] data = HnswIndexTests.Clustered(Rows, Dims, 30, seed: 11);
    private readonly float[] queries = HnswIndexTests.Clustered(Queries, Dims, 30, seed: 12);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private double RecallAtOne(HnswIndex index)
    {
        int hits = 0;
        for (int q = 0; q < Queries; q++)
        {
            var query = queries.AsSpan(q * Dims, Dims);
            if (index.Search(query, 1).Rows[0] == HnswIndexTests.BruteForce(data, Dims, query, 1)[0]) hits++;
        }
        return hits / (double)Queries;
    }

    [Fact]
    public void WideningTheSearchOnABuiltGraphRaisesRecall()
    {
        using var index = HnswIndex.Create(Dims, Sparse with { ExpansionSearch = 1 });
        index.Add(data, 0, threads: 1);
        Assert.Equal(1, index.ExpansionSearch);
        double greedy = RecallAtOne(index);
        index.ExpansionSearch = Rows;       // a beam as wide as the graph visits every node it can reach
        double wide = RecallAtOne(index);
        Assert.Equal(Rows, index.ExpansionSearch);
        Assert.True(greedy < wide, $"recall@1 {greedy:F3} at ef 1, {wide:F3} at ef {Rows}: the setting changed nothing");
        Assert.True(wide >= 0.99, $"recall@1 {wide:F3} at ef {Rows}");
    }

    [Fact]
    public void OpeningASavedGraphAppliesTheCallersExpansion()
    {
        string path = Path.Combine(folder, "g.usearch");
        double wideBeforeSaving;
        using (var index = HnswIndex.Create(Dims, Sparse with { ExpansionSearch = Rows }))
        {
            index.Add(data, 0, threads: 1);
            wideBeforeSaving = RecallAtOne(index);
            index.Save(path);
        }
        using var greedy = HnswIndex.Open(path, Dims, Sparse with { ExpansionSearch = 1 });
        using var wide = HnswIndex.Open(path, Dims, Sparse with { ExpansionSearch = Rows }, memoryMap: true);
        Assert.Equal(1, greedy.ExpansionSearch);
        Assert.Equal(wideBeforeSaving, RecallAtOne(wide));
        Assert.True(RecallAtOne(greedy) < wideBeforeSaving, "the graph opened with ef 1 searched as widely as the saved one");
    }

    [Fact]
    public void AnExpansionBelowOneIsRefused()
    {
        using var index = HnswIndex.Create(Dims, Sparse);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.ExpansionSearch = 0);
        Assert.Equal(Sparse.ExpansionSearch, index.ExpansionSearch);
    }
}

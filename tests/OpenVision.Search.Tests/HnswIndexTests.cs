namespace OpenVision.Search.Tests;

/// <summary>The USearch binding against brute force: keys map back to the right rows, parallel inserts lose nothing,
/// and a saved graph answers the same loaded or memory-mapped.</summary>
public sealed class HnswIndexTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ov-hnsw-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Unit vectors around <paramref name="clusters"/> random centres: the shape real embeddings have.</summary>
    internal static float[] Clustered(int rows, int dims, int clusters, int seed)
    {
        var random = new Random(seed);
        var centres = new float[clusters * dims];
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)(random.NextDouble() * 2 - 1);
        var data = new float[rows * dims];
        for (int r = 0; r < rows; r++)
        {
            int c = random.Next(clusters);
            double norm = 0;
            for (int d = 0; d < dims; d++)
            {
                float v = centres[c * dims + d] + (float)(random.NextDouble() - 0.5) * 0.8f;
                data[r * dims + d] = v;
                norm += v * v;
            }
            float inv = (float)(1 / Math.Sqrt(norm));
            for (int d = 0; d < dims; d++) data[r * dims + d] *= inv;
        }
        return data;
    }

    internal static long[] BruteForce(float[] data, int dims, ReadOnlySpan<float> query, int k)
    {
        int rows = data.Length / dims;
        var scores = new (float Score, long Row)[rows];
        for (int r = 0; r < rows; r++)
        {
            float s = 0;
            for (int d = 0; d < dims; d++) s += data[r * dims + d] * query[d];
            scores[r] = (s, r);
        }
        return scores.OrderByDescending(x => x.Score).Take(k).Select(x => x.Row).ToArray();
    }

    [Fact]
    public void RecallAtTenAgainstBruteForceOnClusteredVectors()
    {
        const int dims = 64, rows = 5000;
        var data = Clustered(rows, dims, 50, seed: 1);
        var queries = Clustered(200, dims, 50, seed: 1 + 1000);
        using var index = HnswIndex.Create(dims, new HnswOptions());
        index.Add(data, 0, threads: 2);
        Assert.Equal(rows, index.Count);
        int hits = 0;
        for (int q = 0; q < 200; q++)
        {
            var query = queries.AsSpan(q * dims, dims);
            var exact = BruteForce(data, dims, query, 10).ToHashSet();
            hits += index.Search(query, 10).Rows.Count(exact.Contains);
        }
        double recall = hits / 2000.0;
        Assert.True(recall >= 0.97, $"recall@10 {recall:F3}");
    }

    [Fact]
    public void EveryInsertedRowFindsItselfAndScoresAreCosines()
    {
        const int dims = 32, rows = 3000;
        var data = Clustered(rows, dims, 300, seed: 2);
        using var index = HnswIndex.Create(dims, new HnswOptions { Quantization = "f32" });
        index.Add(data.AsSpan(0, 1000 * dims), 0, threads: 2);
        index.Add(data.AsSpan(1000 * dims), 1000, threads: 2);     // a second call extends the reservation
        Assert.Equal(rows, index.Count);
        int self = 0;
        for (int r = 0; r < rows; r++)
        {
            var (found, sims) = index.Search(data.AsSpan(r * dims, dims), 1);
            if (found[0] == r) { self++; Assert.Equal(1f, sims[0], 1e-4f); }
        }
        Assert.True(self >= rows * 0.99, $"{self} of {rows} rows found themselves first");
    }

    [Fact]
    public void SavedGraphAnswersTheSameLoadedOrMemoryMapped()
    {
        const int dims = 48;
        var data = Clustered(2000, dims, 40, seed: 3);
        string path = Path.Combine(folder, "g.usearch");
        var options = new HnswOptions();
        (long[], float[]) before;
        using (var index = HnswIndex.Create(dims, options))
        {
            index.Add(data, 100);
            before = index.Search(data.AsSpan(7 * dims, dims), 5);
            index.Save(path);
        }
        foreach (bool map in new[] { false, true })
        {
            using var opened = HnswIndex.Open(path, dims, options, memoryMap: map);
            Assert.Equal(2000, opened.Count);
            var after = opened.Search(data.AsSpan(7 * dims, dims), 5);
            Assert.Equal(before.Item1, after.Rows);
            Assert.Equal(107, after.Rows[0]);
        }
    }

    [Fact]
    public void HalfPrecisionStorageIsSmallerOnDisk()
    {
        const int dims = 128;
        var data = Clustered(1000, dims, 10, seed: 4);
        long Size(string q)
        {
            string path = Path.Combine(folder, q + ".usearch");
            using var index = HnswIndex.Create(dims, new HnswOptions { Quantization = q });
            index.Add(data, 0);
            index.Save(path);
            return new FileInfo(path).Length;
        }
        long f32 = Size("f32"), f16 = Size("f16");
        Assert.True(f16 < f32 - 1000 * dims, $"f16 {f16} bytes, f32 {f32}");
    }

    [Fact]
    public void WrongQueryLengthAndUnknownQuantizationAreRefused()
    {
        using var index = HnswIndex.Create(8, new HnswOptions());
        Assert.Throws<ArgumentException>(() => index.Search(new float[7], 1));
        Assert.Throws<ArgumentException>(() => HnswIndex.Create(8, new HnswOptions { Quantization = "f8" }));
        Assert.Throws<FileNotFoundException>(() => HnswIndex.Open(Path.Combine(folder, "none.usearch"), 8, new HnswOptions()));
    }
}

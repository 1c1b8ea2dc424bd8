using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenVision.IO;
using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>Build and query cost of the two search paths of <see cref="ImageIndex"/> at collection sizes people
/// have, on synthetic unit vectors clustered like embeddings: HNSW insert rate, memory and file size, exact and
/// HNSW latency percentiles, and HNSW's recall@10 against exact search on the same queries.</summary>
public static class IndexBenchmark
{
    /// <summary>Measures every configuration, reporting each row as it finishes: one graph is built per (dimensions,
    /// vectors) pair and searched once per search expansion (a search-time setting), so a sweep costs one build.</summary>
    public static IReadOnlyList<IndexBenchmarkResult> Run(IndexBenchmarkOptions options, IProgress<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Queries < 1) throw new ArgumentException("the benchmark needs at least one query");
        if (options.SearchExpansions is { } list && (list.Count == 0 || list.Any(ef => ef < 1)))
            throw new ArgumentException("search expansions must be at least 1");
        string folder = options.Folder ?? ProcessTempFolder.Create("openvision-index-bench");
        Directory.CreateDirectory(folder);
        var results = new List<IndexBenchmarkResult>();
        try
        {
            foreach (int dims in options.Dimensions)
                foreach (long size in options.Sizes)
                    foreach (var result in Measure(dims, size, options, folder, log))
                    {
                        results.Add(result);
                        log?.Report(result.ToRow());
                    }
        }
        finally
        {
            if (options.Folder is null) Directory.Delete(folder, recursive: true);
        }
        return results;
    }

    private static IEnumerable<IndexBenchmarkResult> Measure(int dims, long size, IndexBenchmarkOptions options, string folder, IProgress<string>? log)
    {
        ProcessMemory.ResetPeak();
        var expansions = options.SearchExpansions ?? [options.Hnsw.ExpansionSearch];
        using var scope = torch.NewDisposeScope();
        var (data, queries) = Synthetic(dims, size, options.Queries, options.Clusters, options.Seed);
        log?.Report($"  {dims}-d × {size:N0}: data ready, building HNSW (M {options.Hnsw.Connectivity}, ef_construction {options.Hnsw.ExpansionAdd}, {options.Hnsw.Quantization})");

        using var graph = HnswIndex.Create(dims, options.Hnsw);
        var clock = Stopwatch.StartNew();
        const long chunk = 65_536;
        for (long row = 0; row < size; row += chunk)
        {
            using var block = data.narrow(0, row, Math.Min(chunk, size - row));
            graph.Add(MemoryMarshal.Cast<byte, float>(block.bytes), row, options.Hnsw.Threads);
        }
        double buildPerSecond = size / clock.Elapsed.TotalSeconds;
        string path = Path.Combine(folder, $"bench-{dims}-{size}.usearch");
        graph.Save(path);
        long fileBytes = new FileInfo(path).Length;
        File.Delete(path);

        // Exact latency: one query at a time (what a service answering single requests sees), on a sample.
        int timed = Math.Min(options.Queries, options.ExactLatencyQueries);
        var exactMs = new double[timed];
        for (int q = 0; q < timed; q++)
        {
            using var one = queries.narrow(0, q, 1);
            clock.Restart();
            ExactSearch.TopK(data, one, 10);
            exactMs[q] = clock.Elapsed.TotalMilliseconds;
        }
        // Ground truth for every query, in batches small enough that [batch, N] scores stay modest.
        var exactTop = new long[options.Queries][];
        clock.Restart();
        for (int start = 0; start < options.Queries; start += ExactBatch)
        {
            using var batch = queries.narrow(0, start, Math.Min(ExactBatch, options.Queries - start));
            ExactSearch.TopK(data, batch, 10).Rows.CopyTo(exactTop, start);
        }
        double exactBatch = options.Queries / clock.Elapsed.TotalSeconds;
        double? ceiling = StorageCeiling(data, queries, exactTop, options.Hnsw.Quantization);
        data.Dispose();   // the searches below read only the graph

        var queryRows = Enumerable.Range(0, options.Queries).Select(q => queries[q].data<float>().ToArray()).ToArray();
        var results = new List<IndexBenchmarkResult>();
        foreach (int ef in expansions)
        {
            graph.ExpansionSearch = ef;
            var hnswMs = new double[options.Queries];
            int hits = 0;
            for (int q = 0; q < options.Queries; q++)
            {
                clock.Restart();
                var found = graph.Search(queryRows[q], 10).Rows;
                hnswMs[q] = clock.Elapsed.TotalMilliseconds;
                hits += found.Count(exactTop[q].Contains);
            }
            results.Add(new IndexBenchmarkResult(dims, size, ef, buildPerSecond, graph.MemoryBytes, fileBytes, size * dims * sizeof(float),
                Percentile(exactMs, 0.5), Percentile(exactMs, 0.99), exactBatch, Percentile(hnswMs, 0.5), Percentile(hnswMs, 0.99),
                options.Queries / (hnswMs.Sum() / 1000), hits / (10.0 * options.Queries), ceiling, ProcessMemory.PeakBytes()));
        }
        return results;
    }

    private const int ExactBatch = 100;

    /// <summary>The recall@10 that the graph's vector storage alone allows: exact search over vectors and queries rounded
    /// to it (the graph compares rounded vectors, so near-tied 10th and 11th neighbours may swap whatever ef is).
    /// Rounds <paramref name="data"/> in place. Null for i8, whose scaling is USearch's own.</summary>
    private static double? StorageCeiling(Tensor data, Tensor queries, long[][] exactTop, string quantization)
    {
        ScalarType? storage = quantization switch { "f32" => ScalarType.Float32, "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16, _ => null };
        if (storage is not { } type) return null;
        if (type == ScalarType.Float32) return 1;
        for (long start = 0; start < data.shape[0]; start += 100_000)
        {
            using var scope = torch.NewDisposeScope();
            var block = data.narrow(0, start, Math.Min(100_000, data.shape[0] - start));
            block.copy_(block.to(type).to(ScalarType.Float32));
        }
        using var rounded = queries.to(type).to(ScalarType.Float32);
        int hits = 0;
        for (int start = 0; start < exactTop.Length; start += ExactBatch)
        {
            using var batch = rounded.narrow(0, start, Math.Min(ExactBatch, exactTop.Length - start));
            var found = ExactSearch.TopK(data, batch, 10).Rows;
            for (int i = 0; i < found.Length; i++) hits += found[i].Count(exactTop[start + i].Contains);
        }
        return hits / (10.0 * exactTop.Length);
    }

    /// <summary>Unit vectors scattered around random centres, and queries drawn the same way (not from the index).</summary>
    private static (Tensor Data, Tensor Queries) Synthetic(int dims, long size, int queries, int clusters, int seed)
    {
        using var generator = new torch.Generator((ulong)seed);
        var centres = torch.randn([clusters, dims], generator: generator);
        Tensor Draw(long n)
        {
            // In blocks, so the temporaries stay small next to a 4 GiB result.
            var result = torch.empty([n, dims]);
            for (long start = 0; start < n; start += 100_000)
            {
                using var inner = torch.NewDisposeScope();
                long rows = Math.Min(100_000, n - start);
                var which = torch.randint(clusters, [rows], generator: generator);
                var points = centres.index_select(0, which).add_(torch.randn([rows, dims], generator: generator).mul_(0.5));
                result.narrow(0, start, rows).copy_(nn.functional.normalize(points, p: 2, dim: 1));
            }
            return result;
        }
        return (Draw(size), Draw(queries));
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

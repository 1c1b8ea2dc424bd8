namespace OpenVision.Search;

/// <summary>Brings an index's HNSW graph up to its committed rows: inserts the rows it lacks and replaces the graph
/// file atomically. A graph that lags (an interrupted run) is caught up on the next build; search uses it only when
/// it covers every row.</summary>
internal static class HnswMaintenance
{
    private const int ChunkRows = 16_384;

    public static IndexManifest Update(string folder, IndexManifest manifest, IndexBuildOptions options)
    {
        bool wanted = options.Approximate ?? (manifest.Hnsw is not null || manifest.Count >= options.ApproximateFromRows);
        if (!wanted || manifest.Count == manifest.HnswCount && manifest.Hnsw is not null) return manifest;
        string path = IndexFolder.PathOf(folder, IndexFolder.HnswFile);
        var hnswOptions = manifest.Hnsw ?? options.Hnsw;
        bool extend = manifest.Hnsw is not null && manifest.HnswCount > 0 && File.Exists(path);
        using var graph = extend ? HnswIndex.Open(path, manifest.Dimensions, hnswOptions) : HnswIndex.Create(manifest.Dimensions, hnswOptions);
        long first = extend ? manifest.HnswCount : 0;
        var buffer = new float[ChunkRows * manifest.Dimensions];
        using (var stream = new FileStream(IndexFolder.PathOf(folder, IndexFolder.VectorsFile), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            stream.Position = first * manifest.Dimensions * sizeof(float);
            for (long row = first; row < manifest.Count; row += ChunkRows)
            {
                int rows = (int)Math.Min(ChunkRows, manifest.Count - row);
                var span = buffer.AsSpan(0, rows * manifest.Dimensions);
                stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(span));
                VectorMatrix.RequireFinite(IndexFolder.PathOf(folder, IndexFolder.VectorsFile), span, manifest.Dimensions, row);
                graph.Add(span, row, hnswOptions.Threads);
            }
        }
        OpenVision.IO.AtomicFile.Commit(path, graph.Save);
        var updated = manifest with { Hnsw = hnswOptions, HnswCount = manifest.Count };
        IndexFolder.WriteManifest(folder, updated);
        return updated;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Search;

/// <summary>A persistent index of image embeddings opened for search: text→image and image→image queries by cosine
/// similarity, exactly or through its HNSW graph, and near-duplicate groups. Build one with
/// <see cref="ImageIndexBuilder"/>. Thread-safe for concurrent searches.</summary>
public sealed class ImageIndex : IDisposable
{
    private readonly Lazy<Tensor> matrix;
    private readonly Lazy<HnswIndex?> hnsw;

    private ImageIndex(string folder, IndexManifest manifest, IReadOnlyList<IndexItem> items, IReadOnlyList<SkippedInput> skipped, bool memoryMap, int? expansionSearch)
    {
        Folder = folder;
        Manifest = manifest;
        Items = items;
        Skipped = skipped;
        // Detached: the first search may run inside a caller's dispose scope, which must not take the index's matrix with it.
        matrix = new(() => VectorMatrix.Read(IndexFolder.PathOf(folder, IndexFolder.VectorsFile), manifest.Count, manifest.Dimensions).DetachFromDisposeScope());
        hnsw = new(() => manifest.Hnsw is { } options && manifest.HnswCount > 0 && File.Exists(IndexFolder.PathOf(folder, IndexFolder.HnswFile))
            ? HnswIndex.Open(IndexFolder.PathOf(folder, IndexFolder.HnswFile), manifest.Dimensions,
                options with { ExpansionSearch = expansionSearch ?? options.ExpansionSearch }, memoryMap)
            : null);
    }

    /// <summary>The index folder.</summary>
    public string Folder { get; }

    /// <summary>The committed state and the model that made it.</summary>
    public IndexManifest Manifest { get; }

    /// <summary>Indexed items, by row.</summary>
    public IReadOnlyList<IndexItem> Items { get; }

    /// <summary>Inputs that could not be embedded.</summary>
    public IReadOnlyList<SkippedInput> Skipped { get; }

    /// <summary>Rows in the index.</summary>
    public long Count => Manifest.Count;

    /// <summary>True when an HNSW graph covers every row.</summary>
    public bool HasApproximateIndex => Manifest.Hnsw is not null && Manifest.HnswCount == Manifest.Count && Manifest.Count > 0;

    /// <summary>The HNSW search expansion (ef) approximate searches use, or null when there is no graph.</summary>
    public int? ExpansionSearch => HasApproximateIndex ? hnsw.Value?.ExpansionSearch : null;

    /// <summary>Opens an index folder.</summary>
    /// <param name="folder">The index folder.</param>
    /// <param name="memoryMap">Serve the HNSW graph from its file instead of loading it.</param>
    /// <param name="expansionSearch">HNSW search expansion (ef) for this session, trading latency for recall; null uses
    /// the one the index was built with (<see cref="HnswOptions.ExpansionSearch"/> in its manifest).</param>
    public static ImageIndex Open(string folder, bool memoryMap = false, int? expansionSearch = null)
    {
        if (expansionSearch < 1) throw new ArgumentOutOfRangeException(nameof(expansionSearch), expansionSearch, "the search expansion must be at least 1");
        var manifest = IndexFolder.ReadManifest(folder);
        var items = IndexFolder.ReadJsonLines<IndexItem>(IndexFolder.PathOf(folder, IndexFolder.ItemsFile), manifest.ItemsBytes);
        if (items.Count != manifest.Count) throw new IndexFormatException(IndexFolder.PathOf(folder, IndexFolder.ItemsFile), $"{items.Count} items for {manifest.Count} vectors");
        var skipped = IndexFolder.ReadJsonLines<SkippedInput>(IndexFolder.PathOf(folder, IndexFolder.SkippedFile), manifest.SkippedBytes);
        return new ImageIndex(folder, manifest, items, skipped, memoryMap, expansionSearch);
    }

    /// <summary>Refuses a query model other than the one that built the index.</summary>
    public void EnsureCompatible(ModelFingerprint queryModel)
    {
        if (Manifest.Model.Mismatch(queryModel) is { } why) throw new IndexModelMismatchException(Folder, why);
    }

    /// <summary>The <paramref name="k"/> items most similar to an L2-normalized <paramref name="query"/> vector.</summary>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k = 10, SearchMode mode = SearchMode.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (query.Length != Manifest.Dimensions) throw new ArgumentException($"the query has {query.Length} dimensions, the index {Manifest.Dimensions}");
        if (Count == 0) return [];
        bool approximate = mode switch
        {
            SearchMode.Exact => false,
            SearchMode.Approximate => HasApproximateIndex ? true : throw new InvalidOperationException($"{Folder}: the index has no HNSW graph covering all {Count} rows (rebuild with --approximate on)"),
            _ => HasApproximateIndex,
        };
        if (approximate)
        {
            var (rows, sims) = hnsw.Value!.Search(query, k);
            // The graph keeps its own copy of the vectors; a damaged one shows as a NaN similarity, which would rank first.
            for (int i = 0; i < sims.Length; i++)
                if (!float.IsFinite(sims[i]))
                    throw new IndexFormatException(IndexFolder.PathOf(Folder, IndexFolder.HnswFile), $"row {rows[i]} has a non-finite similarity; the graph is damaged");
            return rows.Select((row, i) => new SearchHit(row, Items[(int)row], sims[i])).ToList();
        }
        using var q = torch.tensor(query.ToArray(), [1, query.Length]);
        var (bestRows, scores) = ExactSearch.TopK(matrix.Value, q, k);
        return bestRows[0].Select((row, i) => new SearchHit(row, Items[(int)row], scores[0][i])).ToList();
    }

    /// <summary>The stored vector of <paramref name="row"/>.</summary>
    public float[] Vector(long row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Count);
        using var slice = matrix.Value[row];
        return slice.data<float>().ToArray();
    }

    /// <summary>Groups of near-duplicate items: every pair with cosine ≥ <paramref name="threshold"/> joins one group.</summary>
    public IReadOnlyList<DuplicateGroup> FindDuplicates(double threshold, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        DuplicateFinder.Find(matrix.Value, Items, threshold, progress, cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (matrix.IsValueCreated) matrix.Value.Dispose();
        if (hnsw.IsValueCreated) hnsw.Value?.Dispose();
    }
}

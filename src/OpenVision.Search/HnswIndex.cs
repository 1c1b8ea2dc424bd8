using OpenVision.Search.Native;

namespace OpenVision.Search;

/// <summary>A USearch HNSW graph over cosine similarity whose keys are row numbers of the index's vector file.
/// Inserts may run on several threads at once (capacity is reserved first); searches are thread-safe.</summary>
public sealed unsafe class HnswIndex : IDisposable
{
    private nint handle;

    private int expansionSearch;

    private HnswIndex(nint handle, int dimensions, int expansionSearch)
    {
        this.handle = handle;
        Dimensions = dimensions;
        this.expansionSearch = expansionSearch;
    }

    /// <summary>Vector length.</summary>
    public int Dimensions { get; }

    /// <summary>Vectors in the graph.</summary>
    public long Count
    {
        get { byte* error = null; var n = USearchNative.Size(Handle, &error); USearchNative.Check(error, "size"); return (long)n; }
    }

    /// <summary>Bytes the graph and its vectors occupy in memory.</summary>
    public long MemoryBytes
    {
        get { byte* error = null; var n = USearchNative.MemoryUsage(Handle, &error); USearchNative.Check(error, "memory usage"); return (long)n; }
    }

    /// <summary>Candidates kept while searching (ef): changeable at any time, without rebuilding, to trade latency
    /// for recall. Must be at least 1; a search for k results explores at least k candidates whatever its value.</summary>
    public int ExpansionSearch
    {
        get => expansionSearch;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            byte* error = null;
            USearchNative.ChangeExpansionSearch(Handle, (nuint)value, &error);
            USearchNative.Check(error, "setting the search expansion");
            expansionSearch = value;
        }
    }

    private nint Handle => handle != 0 ? handle : throw new ObjectDisposedException(nameof(HnswIndex));

    /// <summary>An empty graph.</summary>
    public static HnswIndex Create(int dimensions, HnswOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var init = new USearchNative.InitOptions
        {
            MetricKind = USearchNative.MetricCos,
            Quantization = options.ScalarKind,
            Dimensions = (nuint)dimensions,
            Connectivity = (nuint)options.Connectivity,
            ExpansionAdd = (nuint)options.ExpansionAdd,
            ExpansionSearch = (nuint)options.ExpansionSearch,
        };
        byte* error = null;
        var h = USearchNative.Init(&init, &error);
        USearchNative.Check(error, "creating the HNSW index");
        return new HnswIndex(h, dimensions, options.ExpansionSearch);
    }

    /// <summary>Opens a saved graph: loaded into memory, or with <paramref name="memoryMap"/> served from the file.</summary>
    public static HnswIndex Open(string path, int dimensions, HnswOptions options, bool memoryMap = false)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such index file", path);
        var index = Create(dimensions, options);
        try
        {
            byte* error = null;
            if (memoryMap) USearchNative.View(index.handle, path, &error);
            else USearchNative.Load(index.handle, path, &error);
            USearchNative.Check(error, path);
            index.ExpansionSearch = options.ExpansionSearch;   // after loading, so the caller's setting is the one in force
            return index;
        }
        catch { index.Dispose(); throw; }
    }

    /// <summary>Inserts rows <paramref name="firstKey"/>… of <paramref name="rows"/> ([n, Dimensions], row-major).</summary>
    public void Add(ReadOnlySpan<float> rows, long firstKey, int threads = 0)
    {
        if (rows.Length % Dimensions != 0) throw new ArgumentException($"{rows.Length} floats are not whole rows of {Dimensions}");
        int n = rows.Length / Dimensions;
        if (n == 0) return;
        threads = threads > 0 ? threads : Environment.ProcessorCount;
        byte* error = null;
        USearchNative.Reserve(Handle, (nuint)(Count + n), &error);
        USearchNative.Check(error, "reserving capacity");
        USearchNative.ChangeThreadsAdd(Handle, (nuint)threads, &error);
        USearchNative.Check(error, "setting insert threads");
        fixed (float* basePtr = rows)
        {
            nint data = (nint)basePtr;
            string? failure = null;
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                byte* e = null;
                USearchNative.Add(handle, (ulong)(firstKey + i), (float*)data + (long)i * Dimensions, 1, &e);
                if (e != null) failure ??= System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)e);
            });
            if (failure != null) throw new USearchIndexException($"adding vectors: {failure}");
        }
    }

    /// <summary>The <paramref name="k"/> nearest rows to a unit-length <paramref name="query"/>, best first, with
    /// cosine similarities.</summary>
    public (long[] Rows, float[] Similarities) Search(ReadOnlySpan<float> query, int k)
    {
        if (query.Length != Dimensions) throw new ArgumentException($"query has {query.Length} dimensions, the index {Dimensions}");
        var keys = new ulong[k];
        var distances = new float[k];
        nuint found;
        fixed (float* q = query)
        fixed (ulong* kp = keys)
        fixed (float* dp = distances)
        {
            byte* error = null;
            found = USearchNative.Search(Handle, q, 1, (nuint)k, kp, dp, &error);
            USearchNative.Check(error, "search");
        }
        int m = (int)found;
        var rows = new long[m];
        var sims = new float[m];
        for (int i = 0; i < m; i++) { rows[i] = (long)keys[i]; sims[i] = 1 - distances[i]; }
        return (rows, sims);
    }

    /// <summary>Writes the graph to <paramref name="path"/> (callers write to a temporary name and rename).</summary>
    public void Save(string path)
    {
        byte* error = null;
        USearchNative.Save(Handle, path, &error);
        USearchNative.Check(error, path);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref handle, 0);
        if (h == 0) return;
        byte* error = null;
        USearchNative.Free(h, &error);
    }
}

namespace OpenVision.Search;

/// <summary>Which search an index runs.</summary>
public enum SearchMode
{
    /// <summary>The HNSW graph when the index has one covering every row, else exact.</summary>
    Auto,
    /// <summary>Every row scored by matrix product: exact, and fast enough up to about a million rows.</summary>
    Exact,
    /// <summary>The HNSW graph (fails when the index has none).</summary>
    Approximate,
}

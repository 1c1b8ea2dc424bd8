namespace OpenVision.Search;

/// <summary>How the approximate (HNSW) index is built and searched. The defaults were chosen with
/// <c>openvision bench index</c> for recall@10 ≥ 0.99 against exact search (docs/search.md).</summary>
public sealed record HnswOptions
{
    /// <summary>Neighbours per graph node (HNSW's M): more raises recall, memory and build time.</summary>
    public int Connectivity { get; init; } = 32;

    /// <summary>Candidates kept while inserting (efConstruction).</summary>
    public int ExpansionAdd { get; init; } = 128;

    /// <summary>Candidates kept while searching (ef): the main recall/latency knob, changeable after building
    /// (<see cref="ImageIndex.Open"/>, <c>openvision search --expansion-search</c>). 256 is where recall@10 stops rising
    /// at a million 512-d vectors (0.997 from 256 on; 0.995 at 128, which another build of the same data measured at
    /// 0.988): a margin over the 0.99 goal that survives build-to-build spread, for about a millisecond per query
    /// (docs/search.md).</summary>
    public int ExpansionSearch { get; init; } = 256;

    /// <summary>How vectors are stored in the graph: "f32", "f16" (half the memory, cosine error ~1e-3) or "i8".</summary>
    public string Quantization { get; init; } = "f16";

    /// <summary>Threads used to insert vectors; 0 uses every core.</summary>
    public int Threads { get; init; }

    /// <summary>The USearch scalar kind for <see cref="Quantization"/>.</summary>
    internal int ScalarKind => Quantization switch
    {
        "f32" => 1,
        "f16" => 3,
        "i8" => 4,
        "bf16" => 6,
        _ => throw new ArgumentException($"unknown quantization '{Quantization}' (f32, f16, bf16 or i8)"),
    };
}

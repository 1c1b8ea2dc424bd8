namespace OpenVision.Search;

/// <summary>How the approximate (HNSW) index is built and searched. The defaults were chosen with
/// <c>openvision bench index</c> for recall@10 ≥ 0.99 against exact search (docs/search.md).</summary>
public sealed record HnswOptions
{
    /// <summary>Neighbours per graph node (HNSW's M): more raises recall, memory and build time.</summary>
    public int Connectivity { get; init; } = 32;

    /// <summary>Candidates kept while inserting (efConstruction).</summary>
    public int ExpansionAdd { get; init; } = 128;

    /// <summary>Candidates kept while searching (ef): the main recall/latency knob, changeable after building.</summary>
    public int ExpansionSearch { get; init; } = 128;

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

using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Search;

/// <summary>manifest.json of an index folder: what the vectors are, which model made them, and how many of the rows
/// in vectors.f32 / items.jsonl are committed (rows past it belong to an interrupted run and are discarded).</summary>
public sealed record IndexManifest
{
    /// <summary>The file format's name.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>The file format's version.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The model that produced the vectors.</summary>
    public required ModelFingerprint Model { get; init; }

    /// <summary>Vector length (the model's embed_dim).</summary>
    public required int Dimensions { get; init; }

    /// <summary>Committed rows.</summary>
    public long Count { get; init; }

    /// <summary>Committed bytes of items.jsonl.</summary>
    public long ItemsBytes { get; init; }

    /// <summary>Committed bytes of skipped.jsonl.</summary>
    public long SkippedBytes { get; init; }

    /// <summary>Similarity of stored vectors: they are L2-normalized, so the dot product is the cosine.</summary>
    public string Metric { get; init; } = "cosine";

    /// <summary>The HNSW graph's settings, when the index has one.</summary>
    public HnswOptions? Hnsw { get; init; }

    /// <summary>Rows inserted into hnsw.usearch (the graph may lag behind <see cref="Count"/> after an interrupt).</summary>
    public long HnswCount { get; init; }

    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "openvision-image-index";

    /// <summary>How manifests, items and search results are written: snake_case keys, nulls left out.</summary>
    public static JsonSerializerOptions JsonOptions => Json;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    internal static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };
}

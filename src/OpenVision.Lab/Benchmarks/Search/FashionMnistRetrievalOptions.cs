using OpenVision.Lab.Demo;
using OpenVision.Search;

namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>What <see cref="FashionMnistRetrievalBenchmark"/> runs on.</summary>
public sealed record FashionMnistRetrievalOptions
{
    /// <summary>Folder holding the Fashion-MNIST IDX files; null looks where <see cref="Datasets.FashionMnist.Locate"/> does.</summary>
    public string? DataFolder { get; init; }

    /// <summary>Where the test shards and the index are written (kept, so the CLI can be pointed at them);
    /// null uses a temporary folder deleted afterwards.</summary>
    public string? WorkFolder { get; init; }

    /// <summary>Only the first this many test images (all 10,000 when null).</summary>
    public int? Limit { get; init; }

    /// <summary>Seed of the generated captions (the demo's default, so they are drawn as its training captions are).</summary>
    public int Seed { get; init; }

    /// <summary>Class-prompt templates ("{}" is the class name): the demo's zero-shot templates.</summary>
    public IReadOnlyList<string> Templates { get; init; } = FashionMnistZeroShot.Templates;

    /// <summary>Images per model call.</summary>
    public int BatchSize { get; init; } = 250;

    /// <summary>The index's HNSW settings (the library's defaults unless overridden).</summary>
    public HnswOptions Hnsw { get; init; } = new();
}

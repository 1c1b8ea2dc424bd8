using System.Text.Json.Nodes;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Results;

namespace OpenVision.Training.Evaluation;

/// <summary>The outcome of an image–text retrieval run.</summary>
public sealed record RetrievalReport
{
    /// <summary>Data set name.</summary>
    public required string Dataset { get; init; }

    /// <summary>Model name.</summary>
    public required string Model { get; init; }

    /// <summary>Weights the model came from.</summary>
    public required string Pretrained { get; init; }

    /// <summary>Images evaluated.</summary>
    public required int Images { get; init; }

    /// <summary>Captions evaluated.</summary>
    public required int Texts { get; init; }

    /// <summary>Image→text recall@k: an image finds one of its captions (CLIP_benchmark "text_retrieval").</summary>
    public required IReadOnlyDictionary<int, double> ImageToText { get; init; }

    /// <summary>Text→image recall@k: a caption finds its image (CLIP_benchmark "image_retrieval").</summary>
    public required IReadOnlyDictionary<int, double> TextToImage { get; init; }

    /// <summary>Images that could not be decoded; their captions were left out too.</summary>
    public required IReadOnlyList<SkippedItem> Skipped { get; init; }

    /// <summary>The transform used, in words.</summary>
    public required string Transform { get; init; }

    /// <summary>Rate of the image loop (decode, transform, image tower), or null when not measured.</summary>
    public EncodeThroughput? Throughput { get; init; }

    /// <summary>CLIP_benchmark's metrics: image_retrieval_recall@k, text_retrieval_recall@k, plus counts.</summary>
    public IEnumerable<Metric> ToMetrics()
    {
        foreach (var (k, recall) in TextToImage.OrderBy(p => p.Key)) yield return new Metric($"image_retrieval_recall@{k}", recall);
        foreach (var (k, recall) in ImageToText.OrderBy(p => p.Key)) yield return new Metric($"text_retrieval_recall@{k}", recall);
        yield return new Metric("num_images", Images);
        yield return new Metric("num_texts", Texts);
        yield return new Metric("num_skipped", Skipped.Count);
    }

    /// <summary>The result in CLIP_benchmark's schema.</summary>
    public BenchmarkResult ToResult() => new()
    {
        Dataset = Dataset,
        Model = Model,
        Pretrained = Pretrained,
        Task = BenchmarkResult.ZeroShotRetrieval,
        Metrics = ToMetrics().ToList(),
        Details = new JsonObject
        {
            ["transform"] = Transform,
            ["throughput"] = Throughput?.ToJson(),
            ["skipped"] = ZeroShotReport.SkippedJson(Skipped),
        },
    };
}

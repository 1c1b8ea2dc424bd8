using System.Text.Json.Nodes;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Results;

namespace OpenVision.Training.Evaluation;

/// <summary>The outcome of a zero-shot classification run.</summary>
public sealed record ZeroShotReport
{
    /// <summary>Data set name.</summary>
    public required string Dataset { get; init; }

    /// <summary>Model name.</summary>
    public required string Model { get; init; }

    /// <summary>Weights the model came from.</summary>
    public required string Pretrained { get; init; }

    /// <summary>Class names in label order.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Hits, top-k and the confusion matrix.</summary>
    public required ClassificationTally Tally { get; init; }

    /// <summary>The top-1 class of every evaluated sample, in the order the source gave them (skipped ones left out), so that
    /// two runs of the same data (e.g. float32 and a reduced precision) can be compared sample by sample.</summary>
    public IReadOnlyList<int> Predictions { get; init; } = [];

    /// <summary>Samples that could not be decoded (not counted in the accuracies).</summary>
    public required IReadOnlyList<SkippedItem> Skipped { get; init; }

    /// <summary>The transform used, in words (size, resize mode, filter, normalisation).</summary>
    public required string Transform { get; init; }

    /// <summary>Number of prompt templates per class.</summary>
    public required int TemplateCount { get; init; }

    /// <summary>Rate of the image loop (decode, transform, image tower), or null when not measured.</summary>
    public EncodeThroughput? Throughput { get; init; }

    /// <summary>Top-1 accuracy.</summary>
    public double Top1 => Tally.Top1;

    /// <summary>Top-5 accuracy, or null with fewer than five classes (CLIP_benchmark reports NaN there).</summary>
    public double? Top5 => ClassNames.Count >= 5 ? Tally.TopK : null;

    /// <summary>CLIP_benchmark's metrics: acc1, acc5 (five or more classes), mean_per_class_recall, plus counts.</summary>
    public IEnumerable<Metric> ToMetrics()
    {
        yield return new Metric("acc1", Top1);
        if (Top5 is { } top5) yield return new Metric("acc5", top5);
        yield return new Metric("mean_per_class_recall", Tally.MeanPerClassRecall);
        yield return new Metric("num_samples", Tally.Samples);
        yield return new Metric("num_skipped", Skipped.Count);
    }

    /// <summary>The result in CLIP_benchmark's schema, with per-class recall and skipped files as details.</summary>
    public BenchmarkResult ToResult()
    {
        var recall = Tally.PerClassRecall();
        var perClass = new JsonObject();
        for (int c = 0; c < ClassNames.Count; c++)
            if (!perClass.ContainsKey(ClassNames[c])) perClass[ClassNames[c]] = recall[c] is { } r ? JsonValue.Create(r) : null;
        return new BenchmarkResult
        {
            Dataset = Dataset,
            Model = Model,
            Pretrained = Pretrained,
            Task = BenchmarkResult.ZeroShotClassification,
            Metrics = ToMetrics().ToList(),
            Details = new JsonObject
            {
                ["transform"] = Transform,
                ["templates"] = TemplateCount,
                ["per_class_recall"] = perClass,
                ["throughput"] = Throughput?.ToJson(),
                ["skipped"] = SkippedJson(Skipped),
            },
        };
    }

    internal static JsonArray SkippedJson(IReadOnlyList<SkippedItem> skipped) =>
        new(skipped.Select(s => (JsonNode)new JsonObject { ["key"] = s.Path, ["reason"] = s.Reason }).ToArray());
}

using OpenVision.Vision;

namespace OpenVision.Training.Evaluation;

/// <summary>Settings of an image–text retrieval run.</summary>
public sealed record RetrievalOptions
{
    /// <summary>The k values of recall@k (COCO / Flickr30k report 1, 5 and 10).</summary>
    public IReadOnlyList<int> Ks { get; init; } = [1, 5, 10];

    /// <summary>Resize mode; null follows the model's config.</summary>
    public ResizeMode? Resize { get; init; }

    /// <summary>Images per model call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Texts per model call.</summary>
    public int TextBatchSize { get; init; } = 1024;

    /// <summary>Receives progress after every batch.</summary>
    public IProgress<EvaluationProgress>? Progress { get; init; }

    /// <summary>Evaluator name (metric prefix); null uses "&lt;dataset&gt;-retrieval".</summary>
    public string? Name { get; init; }
}

using System.Diagnostics;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Image–text retrieval (COCO / Flickr30k protocol, OpenVision's retrieval evaluator): every image and
/// every caption embedded and normalised, then recall@k both ways (<see cref="RetrievalRecall"/>).</summary>
public sealed class RetrievalEvaluator(ICaptionedImageSource source, RetrievalOptions? options = null) : IEvaluator
{
    private readonly RetrievalOptions options = options ?? new RetrievalOptions();

    /// <inheritdoc/>
    public string Name => options.Name ?? $"{source.Name}-retrieval";

    /// <inheritdoc/>
    public IEnumerable<Metric> Run(OpenVisionEncoder encoder, CancellationToken cancellationToken = default) =>
        Evaluate(encoder, cancellationToken).ToMetrics();

    /// <summary>Runs the evaluation and returns the full report.</summary>
    public RetrievalReport Evaluate(OpenVisionEncoder encoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (options.Ks is not { Count: > 0 } || options.Ks.Any(k => k < 1)) throw new ArgumentException("recall needs k values of at least 1");
        var transform = EvaluationTransform.For(encoder, options.Resize);
        var imageParts = new List<Tensor>();
        var captions = new List<string>();
        var textToImage = new List<int>();
        var skipped = new List<SkippedItem>();
        try
        {
            int images = 0;
            var clock = Stopwatch.StartNew();
            var batches = ImageFeatureStream.Encode(encoder, source.Read(cancellationToken), s => s.Image, transform,
                options.BatchSize, source.Count, options.Progress, "images", cancellationToken);
            foreach (var batch in batches)
            {
                using (batch)
                {
                    skipped.AddRange(batch.Skipped);
                    if (batch.Items.Count == 0) continue;
                    imageParts.Add(nn.functional.normalize(batch.Features, dim: -1));
                    foreach (var item in batch.Items)
                    {
                        captions.AddRange(item.Captions);
                        textToImage.AddRange(Enumerable.Repeat(images, item.Captions.Count));
                        images++;
                    }
                }
            }
            clock.Stop();
            if (images == 0) throw new InvalidDataException($"{source.Name}: no image could be read ({skipped.Count} skipped)");

            using var imageFeatures = torch.cat(imageParts, 0);                        // [N, E]
            using var textFeatures = EncodeTexts(encoder, captions, imageFeatures.dtype, cancellationToken);   // [M, E]
            var (imageToText, textToImageRecall) = RetrievalRecall.Compute(imageFeatures, textFeatures, textToImage, options.Ks);
            return new RetrievalReport
            {
                Dataset = source.Name,
                Model = encoder.Config.Name,
                Pretrained = encoder.Pretrained(),
                Images = images,
                Texts = captions.Count,
                ImageToText = imageToText,
                TextToImage = textToImageRecall,
                Skipped = skipped,
                Transform = FeatureCache.Describe(transform.Options),
                Throughput = EncodeThroughput.From(images, clock),
            };
        }
        finally
        {
            foreach (var part in imageParts) part.Dispose();
        }
    }

    private Tensor EncodeTexts(OpenVisionEncoder encoder, List<string> captions, ScalarType dtype, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        var meter = new ProgressMeter(captions.Count);
        var parts = new List<Tensor>();
        for (int start = 0; start < captions.Count; start += options.TextBatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = captions.GetRange(start, Math.Min(options.TextBatchSize, captions.Count - start));
            var features = encoder.EncodeTexts(chunk, normalize: false);
            if (features.ndim != 2 || features.shape[0] != chunk.Count)
                throw new InvalidOperationException($"the encoder returned [{string.Join(", ", features.shape)}] features for {chunk.Count} texts");
            parts.Add(nn.functional.normalize(features.detach().to(dtype, CPU), dim: -1));
            options.Progress?.Report(new EvaluationProgress("texts", meter.Add(chunk.Count)));
        }
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }
}

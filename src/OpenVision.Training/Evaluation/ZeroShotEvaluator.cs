using System.Diagnostics;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Zero-shot classification by OpenVision's protocol: class weights from prompts
/// (<see cref="ZeroShotClassifier"/>, the library's builder), each image's normalised feature scored against them, argmax. Images stream
/// through in batches; only the running counts are kept.</summary>
public sealed class ZeroShotEvaluator(ILabeledImageSource source, ZeroShotOptions? options = null) : IEvaluator
{
    private readonly ZeroShotOptions options = options ?? new ZeroShotOptions();

    /// <inheritdoc/>
    public string Name => options.Name ?? $"{source.Name}-zeroshot";

    /// <inheritdoc/>
    public IEnumerable<Metric> Run(OpenVisionEncoder encoder, CancellationToken cancellationToken = default) =>
        Evaluate(encoder, cancellationToken).ToMetrics();

    /// <summary>Runs the evaluation and returns the full report.</summary>
    public ZeroShotReport Evaluate(OpenVisionEncoder encoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var classNames = source.ClassNames;
        var transform = EvaluationTransform.For(encoder, options.Resize);
        var tally = new ClassificationTally(classNames.Count);
        var skipped = new List<SkippedItem>();
        var predictions = new List<int>((int)Math.Min(source.Count ?? 0, 1 << 20));

        var prompts = new ProgressMeter(classNames.Count * options.Templates.Count);
        using var classifier = ZeroShotClassifier.Create(batch =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var features = encoder.EncodeTexts(batch, normalize: true);
            options.Progress?.Report(new EvaluationProgress("prompts", prompts.Add(batch.Count)));
            return features;
        }, encoder.LogitScale, classNames, options.Templates, options.Canonicalize, textBatchSize: 1024);
        var weights = classifier.Weights;   // [C, E], unit rows
        // Timed from the first read: the rate is that of the whole image loop, prompts excluded.
        var clock = Stopwatch.StartNew();
        var batches = ImageFeatureStream.Encode(encoder, source.Read(cancellationToken), s => s.Image, transform,
            options.BatchSize, source.Count, options.Progress, "images", cancellationToken);
        foreach (var batch in batches)
        {
            using (batch)
            {
                skipped.AddRange(batch.Skipped);
                if (batch.Items.Count == 0) continue;
                using var scope = torch.NewDisposeScope();
                var image = nn.functional.normalize(batch.Features.to(weights.dtype), dim: -1);   // [N, E]
                var scores = image.matmul(weights.T);                                             // [N, C]
                var top = scores.topk(tally.K, dim: 1).indexes.contiguous();                      // [N, k], best first
                var labels = batch.Items.Select(i => (long)i.Label).ToArray();
                var ranked = top.data<long>().ToArray();
                tally.AddBatch(labels, ranked, tally.K);
                for (int i = 0; i < labels.Length; i++) predictions.Add((int)ranked[i * tally.K]);
            }
        }
        clock.Stop();
        if (tally.Samples == 0) throw new InvalidDataException($"{source.Name}: no image could be read ({skipped.Count} skipped)");
        return new ZeroShotReport
        {
            Dataset = source.Name,
            Model = encoder.Config.Name,
            Pretrained = encoder.Pretrained(),
            ClassNames = classNames,
            Tally = tally,
            Predictions = predictions,
            Skipped = skipped,
            Transform = FeatureCache.Describe(transform.Options),
            TemplateCount = options.Templates.Count,
            Throughput = EncodeThroughput.From(tally.Samples, clock),
        };
    }
}

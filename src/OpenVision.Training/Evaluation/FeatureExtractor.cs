using System.Diagnostics;
using OpenVision.IO;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Encodes a labelled data set into a <see cref="FeatureSet"/>. With a <see cref="FeatureCache"/> the features
/// stream to disk batch by batch and a repeated run reads them back instead of calling the encoder.</summary>
public static class FeatureExtractor
{
    /// <summary>The features of <paramref name="source"/> under <paramref name="transform"/>.</summary>
    /// <param name="encoder">The model.</param>
    /// <param name="source">The data set.</param>
    /// <param name="transform">The evaluation transform.</param>
    /// <param name="batchSize">Images per model call.</param>
    /// <param name="cache">Feature cache, or null to always encode.</param>
    /// <param name="progress">Progress, reported under <paramref name="stage"/>.</param>
    /// <param name="stage">Progress stage name, e.g. "train images".</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static FeatureSet Extract(OpenVisionEncoder encoder, ILabeledImageSource source, ImageTransform transform, int batchSize,
        FeatureCache? cache = null, IProgress<EvaluationProgress>? progress = null, string stage = "features", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(source);
        string? path = cache?.PathFor(encoder, source, transform.Options);
        if (path is not null && FeatureCache.TryRead(path, source.ClassNames) is { } cached) return cached;

        using var writer = path is null ? null : new ArrayStreamWriter(path);
        var parts = new List<Tensor>();
        var labels = new List<long>();
        var skipped = new List<SkippedItem>();
        var clock = Stopwatch.StartNew();
        try
        {
            var batches = ImageFeatureStream.Encode(encoder, source.Read(cancellationToken), s => s.Image, transform, batchSize,
                source.Count, progress, stage, cancellationToken);
            foreach (var batch in batches)
            {
                using (batch)
                {
                    skipped.AddRange(batch.Skipped);
                    if (batch.Items.Count == 0) continue;
                    var batchLabels = batch.Items.Select(i => (long)i.Label).ToArray();
                    labels.AddRange(batchLabels);
                    if (writer is null) parts.Add(batch.Features.alias());
                    else
                    {
                        // Streams to disk: memory holds a few batches, not the data set, until the file is complete.
                        writer.Append(FeatureCache.FeaturesName, batch.Features);
                        using var labelTensor = torch.tensor(batchLabels);
                        writer.Append(FeatureCache.LabelsName, labelTensor);
                    }
                }
            }
            clock.Stop();
            if (labels.Count == 0) throw new InvalidDataException($"{source.Name}: no image could be read ({skipped.Count} skipped)");
            var throughput = EncodeThroughput.From(labels.Count, clock);
            if (writer is not null)
            {
                writer.Finish(FeatureCache.Metadata(encoder, source, transform.Options, skipped));
                return FeatureCache.TryRead(path!, source.ClassNames)! with { FromCache = false, Skipped = skipped, Throughput = throughput };
            }
            return new FeatureSet(torch.cat(parts, 0), labels.ToArray(), source.ClassNames, skipped, FromCache: false) { Throughput = throughput };
        }
        finally
        {
            foreach (var part in parts) part.Dispose();
        }
    }
}

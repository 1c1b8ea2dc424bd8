using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Image features of one batch; the receiver disposes it.</summary>
/// <typeparam name="T">The sample type.</typeparam>
/// <param name="Items">The samples that were encoded, in input order.</param>
/// <param name="Features">[N, E] float32 (float64 for float64 models) features on the CPU, as the encoder returned them (not normalised).</param>
/// <param name="Skipped">Samples of this batch that could not be decoded.</param>
public sealed record FeatureBatch<T>(IReadOnlyList<T> Items, Tensor Features, IReadOnlyList<SkippedItem> Skipped) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Features.Dispose();
}

/// <summary>Streams samples through the image tower batch by batch (decoding ahead on worker threads), reporting
/// progress and skipped samples; only a few batches are ever in memory.</summary>
public static class ImageFeatureStream
{
    /// <summary>Yields the features of each batch in input order.</summary>
    /// <param name="encoder">The model.</param>
    /// <param name="items">The samples.</param>
    /// <param name="imageOf">Picks a sample's image.</param>
    /// <param name="transform">The evaluation transform.</param>
    /// <param name="batchSize">Images per model call.</param>
    /// <param name="total">Number of samples for the progress bar, if known.</param>
    /// <param name="progress">Receives a report after each batch, tagged with <paramref name="stage"/>.</param>
    /// <param name="stage">Progress stage name.</param>
    /// <param name="cancellationToken">Stops the stream between batches.</param>
    public static IEnumerable<FeatureBatch<T>> Encode<T>(OpenVisionEncoder encoder, IEnumerable<T> items, Func<T, ImageSample> imageOf,
        ImageTransform transform, int batchSize, long? total, IProgress<EvaluationProgress>? progress, string stage,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var meter = new ProgressMeter(total);
        foreach (var batch in new SampleBatchStream(transform, batchSize).Read(items, imageOf, cancellationToken))
        {
            Tensor features;
            using (batch)
            {
                if (batch.Items.Count == 0) features = torch.empty(0, 0);
                else
                {
                    using var scope = torch.NewDisposeScope();
                    var encoded = encoder.EncodePixels(batch.Pixels, normalize: false);   // [N, E]
                    if (encoded.ndim != 2 || encoded.shape[0] != batch.Items.Count)
                        throw new InvalidOperationException($"the encoder returned [{string.Join(", ", encoded.shape)}] features for {batch.Items.Count} images");
                    // float32 unless the model runs in float64 (parity runs), where rounding would hide differences.
                    var dtype = encoded.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
                    features = encoded.detach().to(dtype, CPU).contiguous().MoveToOuterDisposeScope();
                }
            }
            progress?.Report(new EvaluationProgress(stage, meter.Add(batch.Items.Count, batch.Skipped.Count)));
            yield return new FeatureBatch<T>(batch.Items, features, batch.Skipped);
        }
    }
}

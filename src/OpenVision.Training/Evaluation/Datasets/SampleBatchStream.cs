using OpenVision.Pipelines;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>A batch of decoded, transformed samples; the receiver disposes it.</summary>
/// <typeparam name="T">The sample type (labelled or captioned image).</typeparam>
/// <param name="Items">Samples that decoded, in input order.</param>
/// <param name="Pixels">[N, 3, S, S] float32 pixels of <paramref name="Items"/>.</param>
/// <param name="Skipped">Samples of this batch's span that could not be decoded, with the reason.</param>
public sealed record SampleBatch<T>(IReadOnlyList<T> Items, Tensor Pixels, IReadOnlyList<SkippedItem> Skipped) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Pixels.Dispose();
}

/// <summary>Turns a stream of samples into batches of pixels with <see cref="ImageBatchReader"/>'s pipeline (all cores,
/// pixels written straight into the batch tensor), holding at most a few batches in memory, so data sets larger than
/// memory stream through. Undecodable samples are skipped and reported, never fatal.</summary>
/// <param name="transform">The evaluation transform.</param>
/// <param name="batchSize">Samples per batch (fewer at the end or after skips).</param>
/// <param name="prefetchBatches">Batches decoded ahead of the consumer; 0 decodes each batch when it is asked for
/// (see <see cref="ImageBatchReader"/>).</param>
public sealed class SampleBatchStream(ImageTransform transform, int batchSize, int prefetchBatches = 0)
{
    /// <summary>Yields batches in input order; <paramref name="imageOf"/> picks each item's image.</summary>
    public IEnumerable<SampleBatch<T>> Read<T>(IEnumerable<T> items, Func<T, ImageSample> imageOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(transform);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        return Batches(items, imageOf, cancellationToken);
    }

    private IEnumerable<SampleBatch<T>> Batches<T>(IEnumerable<T> items, Func<T, ImageSample> imageOf, CancellationToken cancellationToken)
    {
        var reader = new ImageBatchReader(transform, batchSize, prefetchBatches);
        foreach (var batch in reader.ReadItems(items, item => imageOf(item).Key, item => imageOf(item).Decode(), cancellationToken))
            yield return new SampleBatch<T>(batch.Items, batch.Pixels, batch.Skipped);
    }
}

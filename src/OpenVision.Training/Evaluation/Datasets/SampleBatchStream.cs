using System.Threading.Channels;
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

/// <summary>Turns a stream of samples into batches of pixels: a producer task reads the source and decodes each
/// chunk on worker threads while the caller runs the model, holding at most a few batches in memory, so data sets
/// larger than memory stream through. Undecodable samples are skipped and reported, never fatal.</summary>
/// <param name="transform">The evaluation transform.</param>
/// <param name="batchSize">Samples per batch (fewer at the end or after skips).</param>
/// <param name="prefetchBatches">Batches decoded ahead of the consumer.</param>
public sealed class SampleBatchStream(ImageTransform transform, int batchSize, int prefetchBatches = 2)
{
    /// <summary>Yields batches in input order; <paramref name="imageOf"/> picks each item's image.</summary>
    public IEnumerable<SampleBatch<T>> Read<T>(IEnumerable<T> items, Func<T, ImageSample> imageOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(transform);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        // Stops the producer when the consumer stops early (an exception, a break).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<(List<T> Items, float[] Data, List<SkippedItem> Skipped)>(Math.Max(1, prefetchBatches));
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var chunk in items.Chunk(batchSize))
                {
                    stop.Token.ThrowIfCancellationRequested();
                    await channel.Writer.WriteAsync(Decode(chunk, imageOf), stop.Token);
                }
                channel.Writer.Complete();
            }
            catch (Exception e) { channel.Writer.Complete(e); }
        });
        try
        {
            int size = transform.Options.ImageSize;
            var reader = channel.Reader;
            while (reader.WaitToReadAsync(stop.Token).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var chunk))
                {
                    var pixels = torch.tensor(chunk.Data, [chunk.Items.Count, 3, size, size]);
                    yield return new SampleBatch<T>(chunk.Items, pixels, chunk.Skipped);
                }
            }
        }
        finally
        {
            stop.Cancel();
            // The producer only ends by completing the channel; wait so no decode outlives the enumeration.
            try { producer.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
        }
    }

    private (List<T>, float[], List<SkippedItem>) Decode<T>(T[] chunk, Func<T, ImageSample> imageOf)
    {
        int length = transform.OutputLength;
        var buffers = new float[chunk.Length][];
        var errors = new string?[chunk.Length];
        Parallel.For(0, chunk.Length, i =>
        {
            var sample = imageOf(chunk[i]);
            try { buffers[i] = transform.ToChw(sample.Decode()); }
            catch (ImageDecodeException e) { errors[i] = e.Message; }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                errors[i] = $"{sample.Key}: {e.Message}";
            }
        });
        var kept = new List<T>(chunk.Length);
        var skipped = new List<SkippedItem>();
        var data = new float[(chunk.Length - errors.Count(e => e is not null)) * length];
        for (int i = 0; i < chunk.Length; i++)
        {
            if (errors[i] is { } error) { skipped.Add(new SkippedItem(imageOf(chunk[i]).Key, error)); continue; }
            buffers[i].CopyTo(data, kept.Count * length);
            kept.Add(chunk[i]);
        }
        return (kept, data, skipped);
    }
}

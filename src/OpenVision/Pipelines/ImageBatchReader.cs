using System.Threading.Channels;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Pipelines;

/// <summary>A batch of preprocessed images; the receiver disposes it.</summary>
/// <param name="Paths">Files in the batch, in input order (skipped files excluded).</param>
/// <param name="Pixels">[N, 3, S, S] float32 normalized pixels.</param>
/// <param name="Skipped">Files of this batch's span that could not be decoded, with the reason.</param>
public sealed record ImageBatch(IReadOnlyList<string> Paths, Tensor Pixels, IReadOnlyList<SkippedItem> Skipped) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Pixels.Dispose();
}

/// <summary>An input that was skipped, and why.</summary>
/// <param name="Path">The file.</param>
/// <param name="Reason">One line, e.g. the decoder's error.</param>
public sealed record SkippedItem(string Path, string Reason);

/// <summary>Decodes and transforms image files on worker threads while the caller runs the model, in input order,
/// holding at most a few batches in memory. Unreadable files are skipped and reported, not fatal.</summary>
public sealed class ImageBatchReader(ImageTransform transform, int batchSize, int prefetchBatches = 2, ImageDecoderOptions? decoderOptions = null)
{
    /// <summary>Yields batches of <c>batchSize</c> files (fewer at the end or after skips).</summary>
    public IEnumerable<ImageBatch> Read(IReadOnlyList<string> files, CancellationToken cancellationToken = default) =>
        Read(files, file => file, file => ImageDecoder.Decode(file, decoderOptions), cancellationToken);

    /// <summary>Yields batches of any inputs: <paramref name="key"/> names an item in <see cref="ImageBatch.Paths"/> and
    /// skip reports, <paramref name="decode"/> (run on worker threads) decodes it or throws to have it skipped.</summary>
    public IEnumerable<ImageBatch> Read<T>(IEnumerable<T> items, Func<T, string> key, Func<T, DecodedImage> decode, CancellationToken cancellationToken = default)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var channel = Channel.CreateBounded<(string[] Paths, float[] Data, List<SkippedItem> Skipped)>(Math.Max(1, prefetchBatches));
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var chunk in items.Chunk(batchSize))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await channel.Writer.WriteAsync(DecodeChunk(chunk, key, decode), cancellationToken);
                }
                channel.Writer.Complete();
            }
            catch (Exception e) { channel.Writer.Complete(e); }
        }, cancellationToken);

        int size = transform.Options.ImageSize;
        var reader = channel.Reader;
        while (reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var item))
            {
                var pixels = item.Paths.Length == 0
                    ? torch.empty(0, 3, size, size)
                    : torch.tensor(item.Data, [item.Paths.Length, 3, size, size]);
                yield return new ImageBatch(item.Paths, pixels, item.Skipped);
            }
        }
        producer.GetAwaiter().GetResult();
    }

    private (string[], float[], List<SkippedItem>) DecodeChunk<T>(T[] chunk, Func<T, string> key, Func<T, DecodedImage> decode)
    {
        int length = transform.OutputLength;
        var keys = chunk.Select(key).ToArray();
        var buffers = new float[chunk.Length][];
        var errors = new string?[chunk.Length];
        Parallel.For(0, chunk.Length, i =>
        {
            try { buffers[i] = transform.ToChw(decode(chunk[i])); }
            catch (ImageDecodeException e) { errors[i] = e.Message; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { errors[i] = $"{keys[i]}: {e.Message}"; }
        });
        var kept = Enumerable.Range(0, chunk.Length).Where(i => errors[i] is null).ToArray();
        var data = new float[kept.Length * length];
        for (int k = 0; k < kept.Length; k++) buffers[kept[k]].CopyTo(data, k * length);
        var skipped = Enumerable.Range(0, chunk.Length).Where(i => errors[i] is not null).Select(i => new SkippedItem(keys[i], errors[i]!)).ToList();
        return (kept.Select(i => keys[i]).ToArray(), data, skipped);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using OpenVision.Native;
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

/// <summary>Decodes and transforms image files into batches on all cores, in input order, holding at most a few batches
/// in memory. Unreadable files are skipped and reported, not fatal.</summary>
/// <remarks><paramref name="prefetchBatches"/> 0 (the default) decodes each batch when the caller asks for it, between
/// model calls, on libtorch's own threads where possible (<see cref="TorchThreadTeam"/>): fastest when the model itself
/// uses every core, because decoding then never competes with libtorch's threads (an OpenMP thread that loses its core
/// leaves the others spinning at the next barrier, and idle ones spin for milliseconds after each call). 1 or more decode
/// that many batches ahead on a background task, which hides slow storage (a network file system) at the price of
/// sharing the cores. Tiny/16-224 folder embedding on 2 cores, against the model alone: overlapped 83–91 %, between calls
/// on .NET's thread pool 89–92 %, on libtorch's threads 92–93 % (docs/speed.md).</remarks>
public sealed class ImageBatchReader(ImageTransform transform, int batchSize, int prefetchBatches = 0, ImageDecoderOptions? decoderOptions = null)
{
    /// <summary>Where batches decode when they are not read ahead: "libtorch's OpenMP threads", or ".NET thread pool
    /// (why)" where the shim (libopenvision_pool.so) or libtorch's OpenMP runtime is missing or
    /// <c>OPENVISION_TORCH_THREAD_TEAM=0</c> is set.</summary>
    public static string DecodeThreads => TorchThreadTeam.Status;

    /// <summary>Yields batches of <c>batchSize</c> files (fewer at the end or after skips).</summary>
    public IEnumerable<ImageBatch> Read(IReadOnlyList<string> files, CancellationToken cancellationToken = default) =>
        Read(files, file => file, file => ImageDecoder.DecodeLeased(file, decoderOptions), cancellationToken);

    /// <summary>Yields batches of any inputs: <paramref name="key"/> names an item in <see cref="ImageBatch.Paths"/> and
    /// skip reports, <paramref name="decode"/> (run on worker threads) decodes it or throws to have it skipped.</summary>
    public IEnumerable<ImageBatch> Read<T>(IEnumerable<T> items, Func<T, string> key, Func<T, DecodedImage> decode, CancellationToken cancellationToken = default)
    {
        foreach (var batch in ReadItems(items, key, decode, cancellationToken))
            yield return new ImageBatch(batch.Keys, batch.Pixels, batch.Skipped);
    }

    /// <summary>As <see cref="Read{T}"/>, keeping the items themselves (for readers of labelled or captioned samples).</summary>
    internal IEnumerable<DecodedBatch<T>> ReadItems<T>(IEnumerable<T> items, Func<T, string> key, Func<T, DecodedImage> decode, CancellationToken cancellationToken = default)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        if (prefetchBatches < 1)
        {
            foreach (var chunk in items.Chunk(batchSize))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return DecodeChunk(chunk, key, decode);
            }
            yield break;
        }
        var channel = Channel.CreateBounded<DecodedBatch<T>>(Math.Max(1, prefetchBatches));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var chunk in items.Chunk(batchSize))
                {
                    stop.Token.ThrowIfCancellationRequested();
                    var batch = DecodeChunk(chunk, key, decode);
                    try { await channel.Writer.WriteAsync(batch, stop.Token); }
                    catch { batch.Dispose(); throw; }
                }
                channel.Writer.Complete();
            }
            catch (Exception e) { channel.Writer.Complete(e); }
        }, stop.Token);

        var reader = channel.Reader;
        bool finished = false;
        try
        {
            while (reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out var batch)) yield return batch;
            finished = true;
            producer.GetAwaiter().GetResult();
        }
        finally
        {
            if (!finished)
            {
                // The caller stopped early or failed: stop the producer and free the batches it decoded ahead.
                stop.Cancel();
                try { producer.Wait(); } catch (AggregateException) { }
                while (reader.TryRead(out var ahead)) ahead.Dispose();
            }
        }
    }

    // Each image is written by the worker threads straight into the batch tensor's memory: no per-image arrays (each
    // would be a fresh large-object allocation, which cost more than the resize itself) and no copy into the tensor.
    private unsafe DecodedBatch<T> DecodeChunk<T>(T[] chunk, Func<T, string> key, Func<T, DecodedImage> decode)
    {
        int length = transform.OutputLength, size = transform.Options.ImageSize;
        var keys = chunk.Select(key).ToArray();
        var errors = new string?[chunk.Length];
        var pixels = torch.empty(chunk.Length, 3, size, size, ScalarType.Float32);
        try
        {
            float* data = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(pixels.bytes));
            void DecodeOne(int i)
            {
                try
                {
                    var image = decode(chunk[i]);
                    transform.ToChw(image, new Span<float>(data + (long)i * length, length));
                    image.ReturnLease();
                }
                catch (ImageDecodeException e) { errors[i] = e.Message; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { errors[i] = $"{keys[i]}: {e.Message}"; }
            }
            // Between model calls, on libtorch's own threads where possible (TorchThreadTeam: its idle workers would
            // otherwise spin on the cores the decoder needs); ahead of the model, one worker per core: more would only
            // take turns on the cores (and the images' caches).
            if (prefetchBatches > 0) Parallel.For(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, DecodeOne);
            else TorchThreadTeam.For(chunk.Length, DecodeOne);
            var kept = Enumerable.Range(0, chunk.Length).Where(i => errors[i] is null).ToArray();
            var skipped = Enumerable.Range(0, chunk.Length).Where(i => errors[i] is not null).Select(i => new SkippedItem(keys[i], errors[i]!)).ToList();
            if (kept.Length < chunk.Length)
            {
                for (int k = 0; k < kept.Length; k++)
                    if (kept[k] != k) new Span<float>(data + (long)kept[k] * length, length).CopyTo(new Span<float>(data + (long)k * length, length));
                var compacted = pixels.narrow(0, 0, kept.Length); // the first rows: still contiguous
                pixels.Dispose();
                pixels = compacted;
            }
            return new DecodedBatch<T>(kept.Select(i => chunk[i]).ToArray(), kept.Select(i => keys[i]).ToArray(), pixels, skipped);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }
}

/// <summary>A decoded batch with its items; the receiver disposes it.</summary>
internal sealed record DecodedBatch<T>(T[] Items, string[] Keys, Tensor Pixels, List<SkippedItem> Skipped) : IDisposable
{
    public void Dispose() => Pixels.Dispose();
}

using System.Threading.Channels;
using OpenVision.Vision;

namespace OpenVision.Search;

/// <summary>Decodes and transforms inputs on worker threads, one batch ahead of the model, in input order.</summary>
internal static class DecodedBatches
{
    public sealed record Batch(IReadOnlyList<string> Keys, IReadOnlyList<string?> Captions, float[] Pixels, IReadOnlyList<SkippedInput> Skipped);

    public static IEnumerable<Batch> Read(IEnumerable<IndexInput> inputs, ImageTransform transform, int batchSize, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<Batch>(2);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var chunk in inputs.Chunk(batchSize))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await channel.Writer.WriteAsync(Decode(chunk, transform), cancellationToken);
                }
                channel.Writer.Complete();
            }
            catch (Exception e) { channel.Writer.Complete(e); }
        }, CancellationToken.None);

        var reader = channel.Reader;
        try
        {
            while (reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out var batch)) yield return batch;
        }
        finally
        {
            // Stop the producer when the consumer leaves early (cancellation, an exception in the model).
            while (reader.TryRead(out _)) { }
        }
        producer.GetAwaiter().GetResult();
    }

    private static Batch Decode(IndexInput[] chunk, ImageTransform transform)
    {
        int length = transform.OutputLength;
        var buffers = new float[chunk.Length][];
        var errors = new string?[chunk.Length];
        Parallel.For(0, chunk.Length, i =>
        {
            try { buffers[i] = transform.ToChw(chunk[i].Decode()); }
            catch (Exception e) when (e is ImageDecodeException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                errors[i] = e is ImageDecodeException ? e.Message : $"{chunk[i].Key}: {e.Message}";
            }
        });
        var kept = Enumerable.Range(0, chunk.Length).Where(i => errors[i] is null).ToArray();
        var pixels = new float[kept.Length * length];
        for (int k = 0; k < kept.Length; k++) buffers[kept[k]].CopyTo(pixels, k * length);
        return new Batch(kept.Select(i => chunk[i].Key).ToList(), kept.Select(i => chunk[i].Caption).ToList(), pixels,
            Enumerable.Range(0, chunk.Length).Where(i => errors[i] is not null).Select(i => new SkippedInput(chunk[i].Key, errors[i]!)).ToList());
    }
}

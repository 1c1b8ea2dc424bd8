using System.Threading.Channels;
using OpenVision.Training.Augmentation;
using OpenVision.Vision;
using TorchSharp;

namespace OpenVision.Training.Data;

/// <summary>Turns a source's samples into training batches on background threads: one thread reads the source
/// (shards, shuffle buffer), <see cref="TrainingBatcherOptions.Workers"/> threads decode, augment and tokenize, and
/// up to <see cref="TrainingBatcherOptions.PrefetchBatches"/> finished batches wait for the consumer.</summary>
/// <remarks>
/// Determinism: sample i of epoch e gets generators keyed by (seed, e, i, key), so the pixels and texts of every batch
/// depend only on the seed, the source's order and the position, never on thread timing. Batches take the next
/// <c>BatchSize</c> samples that decode; an undecodable image is recorded in the source's <see cref="SkipLog"/> and
/// the batch is filled from the following samples. A batch's <see cref="TrainingBatch.Position"/> counts the stream
/// samples up to and including its last one, so resuming there continues with exactly the batches that would have
/// followed. The short remainder of an epoch is dropped.
/// </remarks>
public sealed class TrainingBatcher
{
    private readonly IImageTextSource _source;
    private readonly ImageAugmenter _augmenter;
    private long _withoutCaption, _delivered;

    // A sample ready to go into a batch: its stream index, pixels and the three id rows.
    private sealed record Prepared(long Index, string Key, int Label, float[] Pixels, long[] AltText, long[] SubCaption, long[] Caption, bool HasCaption);

    // A batch assembled on the worker side, before its arrays become tensors on the consumer's thread.
    private sealed record PendingBatch(Prepared[] Samples, DataPosition Position);

    /// <summary>Creates a batcher over <paramref name="source"/>.</summary>
    public TrainingBatcher(IImageTextSource source, TrainingBatcherOptions options, TrainingTexts? texts = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _source = source;
        Options = options;
        Texts = texts ?? new TrainingTexts();
        _augmenter = new ImageAugmenter(options.ImageSize, options.Augmentation);
    }

    /// <summary>The batching settings.</summary>
    public TrainingBatcherOptions Options { get; }

    /// <summary>The text encoder (80-id texts, 128-id captions).</summary>
    public TrainingTexts Texts { get; }

    /// <summary>The source's skip log (undecodable images are recorded there too).</summary>
    public SkipLog Skips => _source.Skips;

    /// <summary>Samples delivered in batches so far.</summary>
    public long SamplesDelivered => Interlocked.Read(ref _delivered);

    /// <summary>Delivered samples that had no synthetic caption, so both encoder texts and the decoder target came
    /// from the alt-text. A trainer should say so when this is not zero.</summary>
    public long SamplesWithoutCaption => Interlocked.Read(ref _withoutCaption);

    /// <summary>Batches of one epoch, starting after the first <paramref name="skip"/> samples of its order.</summary>
    public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long skip = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = Channel.CreateBounded<PendingBatch>(new BoundedChannelOptions(Options.PrefetchBatches) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(() => Produce(epoch, skip, batches.Writer, stop.Token));
        try
        {
            var reader = batches.Reader;
            while (reader.WaitToReadAsync(stop.Token).AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out var pending))
                    yield return ToTensors(pending);
            producer.GetAwaiter().GetResult(); // surfaces a failure that ended the stream
        }
        finally
        {
            // The consumer may stop early (break, exception): stop the threads and wait for them to let go of the source.
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    /// <summary>Batches from <paramref name="start"/> on, epoch after epoch, without end; stop by leaving the loop.</summary>
    /// <exception cref="InvalidOperationException">A whole epoch does not fill one batch.</exception>
    public IEnumerable<TrainingBatch> Read(DataPosition start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        for (int epoch = start.Epoch; ; epoch++)
        {
            long skip = epoch == start.Epoch ? start.SamplesConsumed : 0;
            bool any = false;
            foreach (var batch in ReadEpoch(epoch, skip, cancellationToken))
            {
                any = true;
                yield return batch;
            }
            if (!any && skip == 0)
                throw new InvalidOperationException($"{_source.Description}: epoch {epoch} has fewer than {Options.BatchSize} usable samples ({_source.Skips.Summary()})");
        }
    }

    private async Task Produce(int epoch, long skip, ChannelWriter<PendingBatch> output, CancellationToken token)
    {
        // Reading (tar parsing, shuffle buffer) runs on its own thread so that it overlaps decoding.
        int batchSize = Options.BatchSize;
        var raw = Channel.CreateBounded<(long, ImageTextSample)>(new BoundedChannelOptions(2 * batchSize + 4 * Options.Workers) { SingleReader = true, SingleWriter = true });
        var reading = Task.Run(async () =>
        {
            long index = skip;
            foreach (var sample in _source.ReadEpoch(epoch, skip, token)) await raw.Writer.WriteAsync((index++, sample), token);
        }, token);
        _ = reading.ContinueWith(t => raw.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            var pending = new List<Prepared>();
            var chunk = new List<(long Index, ImageTextSample Sample)>();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.Workers, CancellationToken = token };
            while (true)
            {
                chunk.Clear();
                // Enough for the batch, and enough to keep every worker busy.
                int want = Math.Max(batchSize - pending.Count, 2 * Options.Workers);
                while (chunk.Count < want && await raw.Reader.WaitToReadAsync(token))
                    while (chunk.Count < want && raw.Reader.TryRead(out var item)) chunk.Add(item);
                if (chunk.Count == 0) break;
                var prepared = new Prepared?[chunk.Count];
                Parallel.For(0, chunk.Count, parallel, i => prepared[i] = Prepare(epoch, chunk[i].Index, chunk[i].Sample));
                pending.AddRange(prepared.OfType<Prepared>());
                while (pending.Count >= batchSize)
                {
                    var samples = pending.GetRange(0, batchSize).ToArray();
                    pending.RemoveRange(0, batchSize);
                    await output.WriteAsync(new PendingBatch(samples, new DataPosition(epoch, samples[^1].Index + 1)), token);
                }
            }
            await reading;
            output.TryComplete();
        }
        catch (Exception e)
        {
            output.TryComplete(e is OperationCanceledException && token.IsCancellationRequested ? null : e);
            try { await reading; } catch (Exception) { } // the reader stops with the same token
        }
    }

    // Decodes, augments and tokenizes one sample; null when its image cannot be decoded.
    private Prepared? Prepare(int epoch, long index, ImageTextSample sample)
    {
        DecodedImage image;
        try
        {
            image = sample.Decode(Options.DecoderOptions);
        }
        catch (ImageDecodeException e)
        {
            _source.Skips.Add(sample.ImageName, sample.Key, SkipReason.UndecodableImage, e.Problem);
            return null;
        }
        long keyHash = DataRandom.Hash(sample.Key);
        var pixels = new float[_augmenter.OutputLength];
        _augmenter.Apply(image, new DataRandom(Options.Seed, 4, epoch, index, keyHash), pixels);
        var alt = new long[Texts.TextLength];
        var sub = new long[Texts.TextLength];
        var caption = new long[Texts.CaptionLength];
        bool hasCaption = Texts.Encode(sample.AltText, sample.Caption, new DataRandom(Options.Seed, 5, epoch, index, keyHash), alt, sub, caption);
        return new Prepared(index, sample.Key, sample.Label ?? -1, pixels, alt, sub, caption, hasCaption);
    }

    private TrainingBatch ToTensors(PendingBatch pending)
    {
        var samples = pending.Samples;
        int b = samples.Length, size = Options.ImageSize, length = _augmenter.OutputLength;
        var pixels = new float[(long)b * length];
        for (int i = 0; i < b; i++) samples[i].Pixels.CopyTo(pixels, (long)i * length);
        long[] Rows(Func<Prepared, long[]> row, int width)
        {
            var ids = new long[b * width];
            for (int i = 0; i < b; i++) row(samples[i]).CopyTo(ids, i * width);
            return ids;
        }
        int withoutCaption = samples.Count(s => !s.HasCaption);
        Interlocked.Add(ref _withoutCaption, withoutCaption);
        Interlocked.Add(ref _delivered, b);
        return new TrainingBatch(
            [.. samples.Select(s => s.Key)], [.. samples.Select(s => s.Label)],
            torch.tensor(pixels, [b, 3, size, size]),
            torch.tensor(Rows(s => s.AltText, Texts.TextLength), [b, Texts.TextLength]),
            torch.tensor(Rows(s => s.SubCaption, Texts.TextLength), [b, Texts.TextLength]),
            torch.tensor(Rows(s => s.Caption, Texts.CaptionLength), [b, Texts.CaptionLength]),
            withoutCaption, pending.Position);
    }
}

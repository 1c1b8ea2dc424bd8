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
/// <para>With <see cref="TrainingBatcherOptions.Split"/> (data-parallel ranks), the one reading thread still reads the
/// epoch's global order, but only this rank's contiguous block of each global batch of <c>BatchSize</c> samples goes to
/// the decoders; other ranks' samples are passed over undecoded. A block is released once its whole global batch has
/// been read, so at an epoch's end every rank drops the same incomplete global batch, and its position is the one after
/// the global batch. Samples keep their global index, so their augmentation, and hence the union of the ranks'
/// batches, is the one-process batch. An undecodable image is replaced by the next decodable sample of its block
/// (the global batch cannot grow on one rank alone).</para>
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

    private Task Produce(int epoch, long skip, ChannelWriter<PendingBatch> output, CancellationToken token) =>
        Options.Split is { } split ? ProduceRankBlocks(epoch, skip, split, output, token) : ProduceWholeBatches(epoch, skip, output, token);

    private async Task ProduceWholeBatches(int epoch, long skip, ChannelWriter<PendingBatch> output, CancellationToken token)
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

    // One source stream per epoch, in the global order; only this rank's block of each global batch reaches the workers.
    private async Task ProduceRankBlocks(int epoch, long skip, RankSplit split, ChannelWriter<PendingBatch> output, CancellationToken token)
    {
        int local = split.LocalBatchSize(Options.BatchSize);
        // Blocks read ahead: enough samples to keep every worker busy, and at least two blocks.
        int readAhead = Math.Max(2, (2 * Options.Workers + local - 1) / local);
        var blocks = Channel.CreateBounded<RankBlock>(new BoundedChannelOptions(readAhead) { SingleReader = true, SingleWriter = true });
        var reading = Task.Run(async () =>
        {
            foreach (var block in RankBlocks.Read(_source.ReadEpoch(epoch, skip, token), skip, Options.BatchSize, split))
                await blocks.Writer.WriteAsync(block, token);
        }, token);
        _ = reading.ContinueWith(t => blocks.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.Workers, CancellationToken = token };
            var taken = new List<RankBlock>();
            while (await blocks.Reader.WaitToReadAsync(token))
            {
                // Every block already read, decoded together so that small blocks still use every worker.
                taken.Clear();
                while (taken.Count < readAhead && blocks.Reader.TryRead(out var block)) taken.Add(block);
                var prepared = new Prepared?[taken.Count * local];
                Parallel.For(0, prepared.Length, parallel, i =>
                {
                    var block = taken[i / local];
                    prepared[i] = Prepare(epoch, block.FirstIndex + i % local, block.Samples[i % local]);
                });
                for (int b = 0; b < taken.Count; b++)
                    await output.WriteAsync(new PendingBatch(FillBlock(prepared[(b * local)..((b + 1) * local)], taken[b], epoch), new DataPosition(epoch, taken[b].End)), token);
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

    // A rank cannot refill its block from later samples (they belong to other ranks, which would disagree on where
    // the global batch ends), so an undecodable image's place goes to the block's next decodable sample (a duplicate).
    private Prepared[] FillBlock(Prepared?[] prepared, RankBlock block, int epoch)
    {
        var samples = new Prepared[prepared.Length];
        for (int i = 0; i < prepared.Length; i++)
        {
            int k = i;
            while (prepared[k] is null)
            {
                k = (k + 1) % prepared.Length;
                if (k == i)
                    throw new InvalidOperationException($"{_source.Description}: none of the {prepared.Length} images of the block at sample {block.FirstIndex} of epoch {epoch} could be decoded ({_source.Skips.Summary()})");
            }
            samples[i] = prepared[k]!;
        }
        return samples;
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

namespace OpenVision.Training.Data;

/// <summary>Training data from any <see cref="IImageTextSource"/> (WebDataset shards, a manifest, a folder) through
/// <see cref="TrainingBatcher"/>: a new batcher per stage, since the image and batch sizes change between stages.</summary>
/// <param name="source">The samples.</param>
/// <param name="options">Batcher settings; image and batch size are set per stage.</param>
/// <param name="texts">Tokenization of the three texts (caption length = decoder queries).</param>
public sealed class BatcherTrainingData(IImageTextSource source, TrainingBatcherOptions options, TrainingTexts texts) : ITrainingData
{
    private long withoutCaption;

    /// <inheritdoc/>
    public long SkippedSamples => source.Skips.Count;

    /// <inheritdoc/>
    public long SamplesWithoutCaption => Interlocked.Read(ref withoutCaption);

    /// <summary>The source, for reports.</summary>
    public IImageTextSource Source => source;

    /// <inheritdoc/>
    public IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken) =>
        Read(options with { ImageSize = imageSize, BatchSize = batchSize }, start, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>One source stream per epoch whatever N: every rank reads the global order and decodes only its own
    /// block of each global batch. An undecodable image in a block is replaced by another sample of the same block,
    /// so that every rank keeps B / N samples (see <see cref="TrainingBatcher"/>).</remarks>
    public IEnumerable<TrainingBatch> Stream(int imageSize, int globalBatchSize, DataPosition start, RankSplit split, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        split.LocalBatchSize(globalBatchSize);
        return Read(options with { ImageSize = imageSize, BatchSize = globalBatchSize, Split = split }, start, cancellationToken);
    }

    private IEnumerable<TrainingBatch> Read(TrainingBatcherOptions stage, DataPosition start, CancellationToken cancellationToken)
    {
        var batcher = new TrainingBatcher(source, stage, texts);
        foreach (var batch in batcher.Read(start, cancellationToken))
        {
            Interlocked.Add(ref withoutCaption, batch.WithoutCaption);
            yield return batch;
        }
    }
}

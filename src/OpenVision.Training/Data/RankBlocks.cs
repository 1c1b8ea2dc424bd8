namespace OpenVision.Training.Data;

/// <summary>This rank's samples of one complete global batch, before decoding.</summary>
/// <param name="FirstIndex">Epoch index (in the global order) of the block's first sample.</param>
/// <param name="Samples">The block's B / N samples, in order.</param>
/// <param name="End">Samples of the epoch's global order consumed once the whole global batch is: the batch's position.</param>
public sealed record RankBlock(long FirstIndex, IReadOnlyList<ImageTextSample> Samples, long End);

/// <summary>Cuts streams into this rank's share of each global batch (<see cref="RankSplit"/>).</summary>
public static class RankBlocks
{
    /// <summary>This rank's block of every complete global batch of <paramref name="samples"/>, one epoch's global
    /// order starting at index <paramref name="first"/>. Other ranks' samples are passed over (never decoded). A block
    /// is yielded only once its whole global batch has been read, so the incomplete global batch at the end of an
    /// epoch is dropped by every rank alike, as one process drops its short last batch.</summary>
    public static IEnumerable<RankBlock> Read(IEnumerable<ImageTextSample> samples, long first, int globalBatchSize, RankSplit split)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        int local = split.LocalBatchSize(globalBatchSize), from = split.BlockOffset(globalBatchSize);
        return Iterate();

        IEnumerable<RankBlock> Iterate()
        {
            var block = new ImageTextSample[local];
            int offset = 0;
            long batchStart = first;
            foreach (var sample in samples)
            {
                if (offset >= from && offset < from + local) block[offset - from] = sample;
                if (++offset < globalBatchSize) continue;
                yield return new RankBlock(batchStart + from, block, batchStart + globalBatchSize);
                (block, offset, batchStart) = (new ImageTextSample[local], 0, batchStart + globalBatchSize);
            }
        }
    }

    /// <summary>This rank's batch of every global batch, from a stream of whole local batches (B / N samples each, as
    /// <see cref="ITrainingData.Stream(int, int, DataPosition, CancellationToken)"/> gives them): N consecutive local
    /// batches of one epoch make a global batch and the rank keeps the r-th, carrying the position after the N-th.
    /// When an epoch ends before N local batches, the partial global batch is dropped, as one process drops it.
    /// Every rank reads and prepares every sample: the fallback for data that cannot skip other ranks' samples.</summary>
    public static IEnumerable<TrainingBatch> Pick(IEnumerable<TrainingBatch> localBatches, RankSplit split)
    {
        ArgumentNullException.ThrowIfNull(localBatches);
        ArgumentNullException.ThrowIfNull(split);
        split.Validate();
        return Iterate();

        IEnumerable<TrainingBatch> Iterate()
        {
            TrainingBatch? mine = null;
            int inGroup = 0, epoch = -1;
            try
            {
                foreach (var batch in localBatches)
                {
                    if (inGroup > 0 && batch.Position.Epoch != epoch)
                    {
                        // The epoch ended inside this global batch: drop the part read so far.
                        mine?.Dispose();
                        (mine, inGroup) = (null, 0);
                    }
                    epoch = batch.Position.Epoch;
                    if (inGroup == split.Rank) mine = batch;
                    if (++inGroup < split.WorldSize)
                    {
                        if (!ReferenceEquals(batch, mine)) batch.Dispose();
                        continue;
                    }
                    var kept = mine! with { Position = batch.Position };
                    if (!ReferenceEquals(batch, mine)) batch.Dispose();
                    (mine, inGroup) = (null, 0);
                    yield return kept;
                }
            }
            finally
            {
                mine?.Dispose();
            }
        }
    }
}

using OpenVision.Training.Data;

namespace OpenVision.Training.Distributed;

/// <summary>Splits a global batch stream among ranks: global batch g covers samples [s + g·B, s + (g+1)·B), and rank r
/// reads its contiguous block of B / N of them. The union over ranks is exactly the batch a one-process run reads,
/// in the same order, so an N-rank run and a 1-rank run at the same global batch see the same samples per step,
/// and the position to resume from (samples consumed) does not depend on N.</summary>
public static class RankBatches
{
    /// <summary>This rank's part of each global batch of <paramref name="globalBatchSize"/>, starting at
    /// <paramref name="start"/>; every batch carries the position after the whole global batch.</summary>
    /// <param name="data">The shared data; every rank opens it, each reads only its own samples.</param>
    /// <param name="imageSize">Resolution in pixels.</param>
    /// <param name="globalBatchSize">Samples per global (micro-)batch; divisible by <paramref name="worldSize"/>.</param>
    /// <param name="start">Data position of the first global batch (global positions do not depend on the rank count).</param>
    /// <param name="rank">This rank.</param>
    /// <param name="worldSize">Number of ranks.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    public static IEnumerable<TrainingBatch> Stream(ITrainingData data, int imageSize, int globalBatchSize, DataPosition start,
        int rank, int worldSize, CancellationToken cancellationToken)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {worldSize}");
        if (globalBatchSize % worldSize != 0) throw new ArgumentException($"global batch {globalBatchSize} is not divisible by {worldSize} ranks");
        return worldSize == 1 ? data.Stream(imageSize, globalBatchSize, start, cancellationToken)
            : Interleaved(data, imageSize, globalBatchSize, start, rank, worldSize, cancellationToken);
    }

    // One stream per batch: ITrainingData promises that order and augmentation depend only on the sample index, so
    // opening at the block's first index yields exactly those samples. A source for which reopening is costly can
    // be wrapped to serve strided reads; the contract stays the same. Known limit: a global batch that straddles an
    // epoch boundary is read from the next epoch's start by the ranks whose block falls past the end.
    private static IEnumerable<TrainingBatch> Interleaved(ITrainingData data, int imageSize, int globalBatchSize, DataPosition start,
        int rank, int worldSize, CancellationToken cancellationToken)
    {
        int local = globalBatchSize / worldSize;
        for (long first = start.SamplesConsumed; ; first += globalBatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batches = data.Stream(imageSize, local, new DataPosition(start.Epoch, first + (long)rank * local), cancellationToken).GetEnumerator();
            if (!batches.MoveNext()) yield break;
            yield return batches.Current with { Position = new DataPosition(start.Epoch, first + globalBatchSize) };
        }
    }
}

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
    /// <remarks>Always the rank-split stream (<see cref="ITrainingData.Stream(int, int, DataPosition, RankSplit, CancellationToken)"/>),
    /// one process included, so that what a run trains on never depends on its number of ranks.</remarks>
    /// <param name="data">The shared data; every rank opens one stream on it and keeps its own samples.</param>
    /// <param name="imageSize">Resolution in pixels.</param>
    /// <param name="globalBatchSize">Samples per global (micro-)batch; divisible by <paramref name="worldSize"/>.</param>
    /// <param name="start">Data position of the first global batch (global positions do not depend on the rank count).</param>
    /// <param name="rank">This rank.</param>
    /// <param name="worldSize">Number of ranks.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    public static IEnumerable<TrainingBatch> Stream(ITrainingData data, int imageSize, int globalBatchSize, DataPosition start,
        int rank, int worldSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        var split = new RankSplit(rank, worldSize);
        split.LocalBatchSize(globalBatchSize);   // throws now, not at the first batch
        return data.Stream(imageSize, globalBatchSize, start, split, cancellationToken);
    }
}

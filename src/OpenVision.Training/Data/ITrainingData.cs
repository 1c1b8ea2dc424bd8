namespace OpenVision.Training.Data;

/// <summary>An endless, deterministic stream of training batches that can start at any saved
/// <see cref="DataPosition"/>, so a resumed run sees exactly the batches an uninterrupted one would.</summary>
public interface ITrainingData
{
    /// <summary>Batches of <paramref name="batchSize"/> at <paramref name="imageSize"/> px from <paramref name="start"/>
    /// on, epoch after epoch; each batch carries the position right after it.</summary>
    IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken);

    /// <summary>This rank's part of every global batch (<see cref="RankSplit"/>): global batch g holds the samples
    /// one process would put in its batch g, rank r gets its contiguous block of <paramref name="globalBatchSize"/> / N
    /// of them, and each batch carries the position after the whole global batch (samples of the global order, so it
    /// does not depend on N). Every rank yields the same number of batches, with the same positions.</summary>
    /// <remarks>The default reads the whole stream in local batches and keeps every N-th (<see cref="RankBlocks.Pick"/>):
    /// exact, but each rank prepares every sample. Data that can pass over other ranks' samples cheaply overrides it
    /// (<see cref="BatcherTrainingData"/>).</remarks>
    /// <exception cref="ArgumentException">The global batch is not divisible by the number of ranks.</exception>
    IEnumerable<TrainingBatch> Stream(int imageSize, int globalBatchSize, DataPosition start, RankSplit split, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        int local = split.LocalBatchSize(globalBatchSize);
        return split.WorldSize == 1 ? Stream(imageSize, globalBatchSize, start, cancellationToken)
            : RankBlocks.Pick(Stream(imageSize, local, start, cancellationToken), split);
    }

    /// <summary>Samples skipped so far (corrupt images, missing texts), for the report.</summary>
    long SkippedSamples { get; }

    /// <summary>Samples that had no synthetic caption, so both texts came from the alt-text.</summary>
    long SamplesWithoutCaption { get; }
}

namespace OpenVision.Training.Data;

/// <summary>An endless, deterministic stream of training batches that can start at any saved
/// <see cref="DataPosition"/>, so a resumed run sees exactly the batches an uninterrupted one would.</summary>
public interface ITrainingData
{
    /// <summary>Batches of <paramref name="batchSize"/> at <paramref name="imageSize"/> px from <paramref name="start"/>
    /// on, epoch after epoch; each batch carries the position right after it.</summary>
    IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken);

    /// <summary>Samples skipped so far (corrupt images, missing texts), for the report.</summary>
    long SkippedSamples { get; }

    /// <summary>Samples that had no synthetic caption, so both texts came from the alt-text.</summary>
    long SamplesWithoutCaption { get; }
}

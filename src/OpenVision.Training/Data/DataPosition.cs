namespace OpenVision.Training.Data;

/// <summary>Where a run stands in its data stream: the epoch and how many of that epoch's samples (in stream order)
/// the delivered batches have used. Data-parallel ranks count samples of the global order (every rank's), so a
/// position does not depend on the number of ranks. Saved in checkpoints; a source restarted from it skips exactly
/// those samples and continues with the same order and the same augmentation.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="SamplesConsumed">Samples of the epoch's stream used so far (undecodable ones included).</param>
public sealed record DataPosition(int Epoch, long SamplesConsumed)
{
    /// <summary>The beginning of the first epoch.</summary>
    public static DataPosition Start { get; } = new(0, 0);
}

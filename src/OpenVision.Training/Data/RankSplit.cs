namespace OpenVision.Training.Data;

/// <summary>How data-parallel ranks share a stream of global batches: global batch g holds the next B samples of the
/// epoch's order (B = the global batch size), and rank <see cref="Rank"/> takes its contiguous block of B / N of them.
/// The union over ranks is the one-process batch, in the same order, and positions count samples of the global order,
/// so they do not depend on N.</summary>
/// <param name="Rank">This process's rank, 0-based.</param>
/// <param name="WorldSize">Number of ranks (N).</param>
public sealed record RankSplit(int Rank, int WorldSize)
{
    /// <summary>One process: every batch whole.</summary>
    public static RankSplit Single { get; } = new(0, 1);

    /// <summary>Throws when the rank is outside [0, WorldSize).</summary>
    public void Validate()
    {
        if (WorldSize < 1) throw new ArgumentOutOfRangeException(nameof(WorldSize), WorldSize, "must be at least 1");
        if (Rank < 0 || Rank >= WorldSize) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, $"rank {Rank} of {WorldSize}: must be in [0, {WorldSize})");
    }

    /// <summary>Samples of each global batch that belong to this rank (B / N).</summary>
    /// <exception cref="ArgumentException">B is not divisible by N.</exception>
    public int LocalBatchSize(int globalBatchSize)
    {
        Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatchSize, 1);
        if (globalBatchSize % WorldSize != 0) throw new ArgumentException($"global batch {globalBatchSize} is not divisible by {WorldSize} ranks");
        return globalBatchSize / WorldSize;
    }

    /// <summary>Offset of this rank's block inside a global batch.</summary>
    public int BlockOffset(int globalBatchSize) => Rank * LocalBatchSize(globalBatchSize);
}

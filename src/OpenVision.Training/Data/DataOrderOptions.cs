namespace OpenVision.Training.Data;

/// <summary>How a source orders and partitions its samples: seed, shuffling and the data-parallel rank.</summary>
public sealed record DataOrderOptions
{
    /// <summary>Seed of every random choice; the same seed and epoch give the same order.</summary>
    public long Seed { get; init; }

    /// <summary>Shuffle shards (or items) per epoch and pass samples through the shuffle buffer.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Samples held by the streaming shuffle buffer (WebDataset sources); 1 keeps the shard order.</summary>
    public int ShuffleBufferSize { get; init; } = 2000;

    /// <summary>This process's rank in data-parallel training (0-based).</summary>
    public int Rank { get; init; }

    /// <summary>Number of data-parallel processes; each reads a disjoint part of the data.</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (ShuffleBufferSize < 1) throw new ArgumentOutOfRangeException(nameof(ShuffleBufferSize), ShuffleBufferSize, "must be at least 1");
        if (WorldSize < 1) throw new ArgumentOutOfRangeException(nameof(WorldSize), WorldSize, "must be at least 1");
        if (Rank < 0 || Rank >= WorldSize) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, $"must be in [0, {WorldSize})");
    }
}

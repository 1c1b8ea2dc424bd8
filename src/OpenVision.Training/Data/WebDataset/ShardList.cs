namespace OpenVision.Training.Data.WebDataset;

/// <summary>An ordered list of shards (local paths or http(s) URLs), from brace patterns, with the data-parallel
/// partition and the per-epoch order.</summary>
public sealed class ShardList
{
    /// <summary>Wraps an explicit list of shards.</summary>
    public ShardList(IEnumerable<string> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        Shards = [.. shards];
        if (Shards.Count == 0) throw new ArgumentException("the shard list is empty", nameof(shards));
    }

    /// <summary>The shards, in the order given.</summary>
    public IReadOnlyList<string> Shards { get; }

    /// <summary>Shards named by brace patterns (each may hold several <c>::</c>-separated patterns).</summary>
    public static ShardList FromPatterns(params IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        return new ShardList(patterns.SelectMany(BraceExpansion.Expand));
    }

    /// <summary>The shards of <paramref name="rank"/> among <paramref name="worldSize"/> processes: every
    /// worldSize-th shard starting at rank. The parts are disjoint and together hold every shard once.</summary>
    /// <remarks>Ranks get whole shards (as webdataset's <c>split_by_node</c>), so shards should outnumber ranks; a rank
    /// with no shard would starve, which is an error.</remarks>
    /// <exception cref="ArgumentException">There are fewer shards than ranks.</exception>
    public IReadOnlyList<string> ShardsFor(int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"must be in [0, {worldSize})");
        if (Shards.Count < worldSize)
            throw new ArgumentException($"{Shards.Count} shards cannot feed {worldSize} ranks; write more, smaller shards");
        var mine = new List<string>();
        for (int i = rank; i < Shards.Count; i += worldSize) mine.Add(Shards[i]);
        return mine;
    }

    /// <summary>The order in which a rank reads its shards in <paramref name="epoch"/>: its part, shuffled with a
    /// generator keyed by (seed, epoch, rank) when <see cref="DataOrderOptions.Shuffle"/> is set.</summary>
    public IReadOnlyList<string> EpochOrder(DataOrderOptions order, int epoch)
    {
        ArgumentNullException.ThrowIfNull(order);
        var mine = ShardsFor(order.Rank, order.WorldSize).ToList();
        if (order.Shuffle) new DataRandom(order.Seed, 1, epoch, order.Rank).Shuffle(mine);
        return mine;
    }
}

namespace OpenVision.Training.Data;

/// <summary>Epoch orders for sources that know all their items up front (manifests, folders).</summary>
public static class SampleOrder
{
    /// <summary>The indices of <paramref name="count"/> items that belong to the rank, in the epoch's order: every
    /// WorldSize-th item from Rank (disjoint, complete partition), fully shuffled with a generator keyed by
    /// (seed, epoch, rank) when shuffling is on.</summary>
    public static int[] ForEpoch(int count, DataOrderOptions order, int epoch)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var mine = new List<int>((count + order.WorldSize - 1) / order.WorldSize);
        for (int i = order.Rank; i < count; i += order.WorldSize) mine.Add(i);
        if (order.Shuffle) new DataRandom(order.Seed, 3, epoch, order.Rank).Shuffle(mine);
        return [.. mine];
    }

    /// <summary>Drops the first <paramref name="count"/> items (a long count, unlike <see cref="Enumerable.Skip{T}"/>).</summary>
    public static IEnumerable<T> Skip<T>(IEnumerable<T> items, long count)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return count == 0 ? items : Iterate(items, count);

        static IEnumerable<T> Iterate(IEnumerable<T> items, long count)
        {
            long seen = 0;
            foreach (var item in items)
                if (seen++ >= count) yield return item;
        }
    }
}

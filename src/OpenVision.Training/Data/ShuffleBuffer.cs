namespace OpenVision.Training.Data;

/// <summary>WebDataset's streaming shuffle: hold up to N items, emit a random one each time a new one arrives, drain
/// in random order at the end. Every item comes out exactly once; the order depends only on the input and the generator.</summary>
public static class ShuffleBuffer
{
    /// <summary>Shuffles <paramref name="items"/> through a buffer of <paramref name="size"/> items.</summary>
    /// <remarks>A size of 1 returns the input order. Items leave the buffer after at most <paramref name="size"/> − 1
    /// later arrivals, so the memory held is bounded by the buffer, not by the stream.</remarks>
    public static IEnumerable<T> Shuffle<T>(IEnumerable<T> items, int size, DataRandom random)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return size == 1 ? items : Iterate(items, size, random);
    }

    private static IEnumerable<T> Iterate<T>(IEnumerable<T> items, int size, DataRandom random)
    {
        var buffer = new List<T>(Math.Min(size, 1 << 16));
        foreach (var item in items)
        {
            buffer.Add(item);
            if (buffer.Count < size) continue;
            yield return TakeRandom(buffer, random);
        }
        while (buffer.Count > 0) yield return TakeRandom(buffer, random);
    }

    private static T TakeRandom<T>(List<T> buffer, DataRandom random)
    {
        // Swap-remove: O(1), and the order of what stays in the buffer does not matter.
        int k = random.NextInt(buffer.Count);
        var item = buffer[k];
        buffer[k] = buffer[^1];
        buffer.RemoveAt(buffer.Count - 1);
        return item;
    }
}

namespace OpenVision.Training.Data;

/// <summary>A small deterministic random generator (SplitMix64) for everything the data path draws: shard order,
/// shuffle buffer, crops, colour jitter and sentence choice.</summary>
/// <remarks>Why not <see cref="Random"/>: its seeded sequence is an implementation detail of the runtime, and a
/// resumed run must draw exactly what the interrupted one drew. SplitMix64 is a fixed, published formula; streams
/// are keyed by mixing the seed with the indices that identify a draw (epoch, rank, sample index), so every sample's
/// randomness is independent of thread scheduling. Not thread-safe: one instance per stream.</remarks>
public sealed class DataRandom
{
    private ulong _state;

    /// <summary>A generator whose sequence is fixed by <paramref name="seed"/> and the stream <paramref name="keys"/>.</summary>
    public DataRandom(long seed, params ReadOnlySpan<long> keys) => _state = Mix(seed, keys);

    /// <summary>Hashes a seed and keys into one 64-bit value (SplitMix64 finaliser applied after each key).</summary>
    public static ulong Mix(long seed, params ReadOnlySpan<long> keys)
    {
        ulong h = Finalise((ulong)seed ^ 0x6A09E667F3BCC909UL);
        foreach (long key in keys) h = Finalise(h + 0x9E3779B97F4A7C15UL ^ (ulong)key);
        return h;
    }

    /// <summary>A stable 64-bit hash of a string (FNV-1a over UTF-16 code units), for keying streams by sample key.</summary>
    public static long Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in text) h = (h ^ c) * 0x100000001B3UL;
        return (long)h;
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Finalise(_state);
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform double in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public double NextDouble(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>A uniform integer in [0, <paramref name="count"/>) (Lemire's multiply-shift; the bias below 2^-32 is irrelevant here).</summary>
    public int NextInt(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return (int)(((NextUInt64() >> 32) * (ulong)count) >> 32);
    }

    /// <summary>True with probability <paramref name="probability"/>.</summary>
    public bool NextBool(double probability) => NextDouble() < probability;

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(IList<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

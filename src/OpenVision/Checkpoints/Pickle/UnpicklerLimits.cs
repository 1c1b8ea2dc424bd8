namespace OpenVision.Checkpoints.Pickle;

/// <summary>Bounds that keep a hostile pickle from exhausting memory; the defaults fit any real state dict.</summary>
internal sealed record UnpicklerLimits
{
    /// <summary>Largest pickle stream accepted, in bytes (a 1,000-tensor state dict pickles to well under 1 MB).</summary>
    public long MaxPickleBytes { get; init; } = 256L << 20;

    /// <summary>Most memo entries; every BINPUT/MEMOIZE adds one.</summary>
    public int MaxMemoEntries { get; init; } = 4_000_000;

    /// <summary>Longest string, bytes object or big integer, in bytes.</summary>
    public int MaxStringBytes { get; init; } = 64 << 20;

    /// <summary>Most MARKs open at once; real pickles nest a handful deep.</summary>
    public int MaxMarkDepth { get; init; } = 1_000;

    /// <summary>Most values on the stack at once.</summary>
    public int MaxStackSize { get; init; } = 4_000_000;

    /// <summary>The defaults.</summary>
    public static UnpicklerLimits Default { get; } = new();
}

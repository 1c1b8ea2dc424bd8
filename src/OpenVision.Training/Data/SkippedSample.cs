namespace OpenVision.Training.Data;

/// <summary>A sample, or part of a shard, that the data path skipped.</summary>
/// <param name="Source">The shard, manifest or file it came from.</param>
/// <param name="Key">The sample key (empty for a shard-level break).</param>
/// <param name="Reason">The category.</param>
/// <param name="Detail">One line, e.g. the decoder's message.</param>
public sealed record SkippedSample(string Source, string Key, SkipReason Reason, string Detail)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Source}{(Key.Length > 0 ? $" [{Key}]" : "")}: {Reason}: {Detail}";
}

namespace OpenVision.Checkpoints;

/// <summary>What did not match when a state dict was loaded into a model.</summary>
/// <param name="Source">The checkpoint, for messages.</param>
/// <param name="Missing">Model parameters the checkpoint lacks.</param>
/// <param name="Unexpected">Checkpoint tensors the model has no place for.</param>
/// <param name="Mismatched">Tensors present in both with different shapes, as "key: checkpoint [..] vs model [..]".</param>
public sealed record LoadReport(string Source, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected, IReadOnlyList<string> Mismatched)
{
    /// <summary>True when every key matched in name and shape.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>Throws <see cref="CheckpointFormatException"/> naming every offending tensor unless the load was exact.</summary>
    public void ThrowIfIncompatible()
    {
        if (IsExact) return;
        var parts = new List<string>();
        if (Mismatched.Count > 0) parts.Add($"wrong shape: {Describe(Mismatched)}");
        if (Missing.Count > 0) parts.Add($"missing: {Describe(Missing)}");
        if (Unexpected.Count > 0) parts.Add($"unexpected: {Describe(Unexpected)}");
        throw new CheckpointFormatException(Source, "does not fit the model (" + string.Join("; ", parts) + ")");
    }

    private static string Describe(IReadOnlyList<string> keys) =>
        keys.Count <= 8 ? string.Join(", ", keys) : string.Join(", ", keys.Take(8)) + $" and {keys.Count - 8} more";
}

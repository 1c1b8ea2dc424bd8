namespace OpenVision;

/// <summary>Where a model's config and weights were found.</summary>
/// <param name="Reference">What the user asked for (name, folder, file, hf-hub: id).</param>
/// <param name="ConfigPath">The config file, or null for a built-in config.</param>
/// <param name="WeightsPath">The weights file, or null for a randomly initialised model.</param>
public sealed record ModelSource(string Reference, string? ConfigPath, string? WeightsPath)
{
    /// <summary>True when weights were loaded from a checkpoint.</summary>
    public bool HasWeights => WeightsPath is not null;
}

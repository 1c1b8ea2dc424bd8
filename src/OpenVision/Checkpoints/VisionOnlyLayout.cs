namespace OpenVision.Checkpoints;

/// <summary>The key layout of vision-only checkpoints (OpenVision 2's <c>*-vision-only</c> releases): the vision tower's
/// keys without the <c>visual.</c> prefix (294 tensors for L/14), while our model names them <c>visual.*</c>.</summary>
public static class VisionOnlyLayout
{
    /// <summary>The prefix of the vision tower's keys in a whole CLIP.</summary>
    public const string VisualPrefix = "visual.";

    /// <summary>Model keys for a vision-only checkpoint. As the reference's <c>create_vision_encoder_and_transforms</c>
    /// (open_clip fork <c>factory.py</c>): when any key starts with <c>visual.</c> only those keys are the tower (so a
    /// whole CLIP checkpoint loads as an encoder); otherwise every key is a tower key. Tensors are shared, not copied.</summary>
    public static Dictionary<string, TensorData> ToModelKeys(IReadOnlyDictionary<string, TensorData> checkpoint)
    {
        bool prefixed = checkpoint.Keys.Any(k => k.StartsWith(VisualPrefix, StringComparison.Ordinal));
        return prefixed
            ? checkpoint.Where(p => p.Key.StartsWith(VisualPrefix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal)
            : checkpoint.ToDictionary(p => VisualPrefix + p.Key, p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>The released layout of a vision-only model's state dict: <c>visual.</c> removed from every key.</summary>
    /// <exception cref="ArgumentException">A key is not under <c>visual.</c> (the state dict is not a vision-only model's).</exception>
    public static Dictionary<string, TensorData> ToReleaseKeys(IReadOnlyDictionary<string, TensorData> stateDict) =>
        stateDict.ToDictionary(p => p.Key.StartsWith(VisualPrefix, StringComparison.Ordinal)
            ? p.Key[VisualPrefix.Length..]
            : throw new ArgumentException($"key '{p.Key}' is not part of the vision tower", nameof(stateDict)), p => p.Value, StringComparer.Ordinal);
}

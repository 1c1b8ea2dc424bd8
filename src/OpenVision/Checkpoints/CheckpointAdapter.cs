namespace OpenVision.Checkpoints;

/// <summary>Pure dictionary-to-dictionary fixes that make a state dict from another trainer match our key names.</summary>
public static class CheckpointAdapter
{
    /// <summary>The prefix DataParallel and DistributedDataParallel add to every key.</summary>
    public const string ModulePrefix = "module.";

    /// <summary>Removes <paramref name="prefix"/> when every key carries it (as open_clip does for "module.");
    /// otherwise returns the same keys unchanged. The tensors are shared, not copied.</summary>
    public static Dictionary<string, TensorData> StripPrefix(IReadOnlyDictionary<string, TensorData> stateDict, string prefix = ModulePrefix)
    {
        bool all = stateDict.Count > 0 && stateDict.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal));
        return stateDict.ToDictionary(p => all ? p.Key[prefix.Length..] : p.Key, p => p.Value, StringComparer.Ordinal);
    }
}

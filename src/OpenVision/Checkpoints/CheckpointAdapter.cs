namespace OpenVision.Checkpoints;

/// <summary>Pure dictionary-to-dictionary fixes that make a state dict from another trainer match our key names.</summary>
/// <remarks>Training checkpoints that wrap the weights (<c>{"state_dict": ...}</c>, <c>{"model": ...}</c>) are unwrapped
/// by <see cref="TorchCheckpointReader"/>, since the wrapper is a pickled object rather than a tensor dictionary; the key
/// fixes live here so that any reader's output goes through the same steps.</remarks>
public static class CheckpointAdapter
{
    /// <summary>The prefix DataParallel and DistributedDataParallel add to every key.</summary>
    public const string ModulePrefix = "module.";

    /// <summary>The prefix <c>torch.compile</c>'s wrapper module adds to every key.</summary>
    public const string CompilePrefix = "_orig_mod.";

    /// <summary>Prefixes that wrappers add around a model, removed by <see cref="StripWrapperPrefixes"/>.</summary>
    public static IReadOnlyList<string> WrapperPrefixes { get; } = [ModulePrefix, CompilePrefix];

    /// <summary>Removes <paramref name="prefix"/> when every key carries it (as open_clip does for "module.");
    /// otherwise returns the same keys unchanged. The tensors are shared, not copied.</summary>
    public static Dictionary<string, TensorData> StripPrefix(IReadOnlyDictionary<string, TensorData> stateDict, string prefix = ModulePrefix)
    {
        bool all = stateDict.Count > 0 && stateDict.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal));
        return stateDict.ToDictionary(p => all ? p.Key[prefix.Length..] : p.Key, p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>Removes the DataParallel/DistributedDataParallel (<c>module.</c>) and <c>torch.compile</c>
    /// (<c>_orig_mod.</c>) prefixes, nested in any order, for as long as every key carries the same one. A prefix that
    /// only some keys carry is left alone: then it is part of the names, not a wrapper's.</summary>
    public static Dictionary<string, TensorData> StripWrapperPrefixes(IReadOnlyDictionary<string, TensorData> stateDict)
    {
        var result = stateDict.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        while (WrapperPrefixes.FirstOrDefault(p => SharedByAll(result, p)) is { } prefix)
            result = StripPrefix(result, prefix);
        return result;
    }

    private static bool SharedByAll(Dictionary<string, TensorData> stateDict, string prefix) =>
        stateDict.Count > 0 && stateDict.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal));
}

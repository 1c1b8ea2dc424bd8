using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Checkpoints;

/// <summary>Copies a state dict into a module by key, checking names and shapes first, and exports a module's state dict.</summary>
public static class StateDictLoader
{
    /// <summary>Compares keys and shapes without touching the model.</summary>
    public static LoadReport Check(nn.Module model, IReadOnlyDictionary<string, TensorData> tensors, string source)
    {
        var modelState = model.state_dict();
        var missing = modelState.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        var unexpected = tensors.Keys.Where(k => !modelState.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var mismatched = modelState
            .Where(kv => tensors.TryGetValue(kv.Key, out var t) && !t.Shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: checkpoint [{string.Join(", ", tensors[kv.Key].Shape)}] vs model [{string.Join(", ", kv.Value.shape)}]")
            .ToList();
        return new LoadReport(source, missing, unexpected, mismatched);
    }

    /// <summary>Loads <paramref name="tensors"/> into <paramref name="model"/>. Strict (the default) refuses any
    /// missing, unexpected or mis-shaped tensor before anything is copied; otherwise matching tensors are copied.</summary>
    public static LoadReport Load(nn.Module model, IReadOnlyDictionary<string, TensorData> tensors, string source, bool strict = true)
    {
        var report = Check(model, tensors, source);
        if (strict) report.ThrowIfIncompatible();
        var mismatched = report.Mismatched.Select(m => m[..m.IndexOf(':')]).ToHashSet();
        using var _ = torch.no_grad();
        foreach (var (key, target) in model.state_dict())
        {
            if (!tensors.TryGetValue(key, out var data) || mismatched.Contains(key)) continue;
            using var source32 = data.ToTorch();
            if (!source32.is_floating_point() && target.is_floating_point())
                throw new CheckpointFormatException(source, $"tensor '{key}' is {data.DType}, expected a floating-point type");
            target.copy_(source32);                                  // converts dtype and device as needed
        }
        return report;
    }

    /// <summary>The model's state dict as raw tensors, in <paramref name="dtype"/> (or each parameter's own type).</summary>
    public static Dictionary<string, TensorData> Export(nn.Module model, ScalarType? dtype = null)
    {
        var result = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (key, value) in model.state_dict())
        {
            using var converted = dtype is { } d && value.is_floating_point() ? value.to(d) : value.alias();
            result[key] = TensorData.FromTorch(converted);
        }
        return result;
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenVision.IO;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Measured peaks cached per machine as <c>peak-&lt;hash of CPU model and cores&gt;.json</c> in
/// <c>$XDG_CACHE_HOME/openvision</c> (default <c>~/.cache/openvision</c>), so that every <c>bench</c> is
/// compared with the same figure until the caller asks for a new measurement.</summary>
public sealed class PeakCache(string folder)
{
    /// <summary>The cache file of <paramref name="machine"/>.</summary>
    public string PathFor(MachineInfo machine)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{machine.CpuModel}|{machine.Cores}"));
        return Path.Combine(folder, $"peak-{Convert.ToHexStringLower(hash)[..16]}.json");
    }

    /// <summary>The cached figures of <paramref name="machine"/>, or null when none (or the file belongs to another CPU).</summary>
    public MeasuredPeak? Load(MachineInfo machine)
    {
        var path = PathFor(machine);
        if (!File.Exists(path)) return null;
        MeasuredPeak? peak;
        try { peak = JsonSerializer.Deserialize<MeasuredPeak>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a peak cache file ({e.Message}); delete it or pass --remeasure-peak"); }
        return peak is not null && peak.CpuModel == machine.CpuModel && peak.Cores == machine.Cores && peak.Float32Gflops > 0 ? peak : null;
    }

    /// <summary>Writes <paramref name="peak"/> as the cached figures of <paramref name="machine"/>.</summary>
    public void Save(MachineInfo machine, MeasuredPeak peak)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(PathFor(machine), JsonSerializer.Serialize(peak, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The cached figures, or a fresh measurement (then cached) when there are none, <paramref name="remeasure"/>,
    /// or <paramref name="stale"/> says the cached ones were measured in a way since superseded.</summary>
    public MeasuredPeak GetOrMeasure(MachineInfo machine, bool remeasure, Func<MeasuredPeak> measure, Func<MeasuredPeak, bool>? stale = null)
    {
        if (!remeasure && Load(machine) is { } cached && stale?.Invoke(cached) != true) return cached;
        var peak = measure();
        Save(machine, peak);
        return peak;
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenVision.IO;

namespace OpenVision.Onnx.Selection;

/// <summary>Backend choices kept per machine, model and resolution as <c>backend-&lt;hash&gt;.json</c> files in a folder
/// (by default <c>$XDG_CACHE_HOME/openvision</c>, else <c>~/.cache/openvision</c>), so the measurement runs once.</summary>
public sealed class BackendChoiceCache(string folder)
{
    // The load average is NaN where the OS has none.
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The folder the files live in.</summary>
    public string Folder { get; } = folder;

    /// <summary>The file of a model at a resolution on the CPU named by <paramref name="cpu"/>, for a set of candidates.</summary>
    public string PathFor(string model, int imageSize, string cpu, IReadOnlyList<string> candidates)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{cpu}|{model}|{imageSize}|{string.Join(",", candidates)}"));
        return Path.Combine(Folder, $"backend-{Convert.ToHexStringLower(hash)[..16]}.json");
    }

    /// <summary>The cached choice, or null when there is none for exactly this CPU, model, resolution and candidates.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a backend choice.</exception>
    public BackendChoice? Load(string model, int imageSize, string cpu, IReadOnlyList<string> candidates)
    {
        string path = PathFor(model, imageSize, cpu, candidates);
        if (!File.Exists(path)) return null;
        BackendChoice? choice;
        try { choice = JsonSerializer.Deserialize<BackendChoice>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a backend choice file ({e.Message}); delete it to measure again"); }
        return choice is not null && choice.Model == model && choice.ImageSize == imageSize && choice.Cpu == cpu && choice.Covers(candidates) ? choice : null;
    }

    /// <summary>Writes <paramref name="choice"/> (through a temporary file, so a reader never sees half of it).</summary>
    public void Save(BackendChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        Directory.CreateDirectory(Folder);
        AtomicFile.WriteAllText(PathFor(choice.Model, choice.ImageSize, choice.Cpu, choice.Candidates), JsonSerializer.Serialize(choice, Json));
    }
}

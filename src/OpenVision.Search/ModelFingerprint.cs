using System.Security.Cryptography;
using System.Text;
using OpenVision.Configs;

namespace OpenVision.Search;

/// <summary>What identifies the model behind an index: its name, a hash of its architecture and preprocessing, the
/// input size and dtype, and the embedding of a fixed probe image, which tells two checkpoints of one architecture
/// apart (the config hash alone cannot).</summary>
public sealed record ModelFingerprint
{
    /// <summary>The model reference the index was built with (name, folder or hf-hub id).</summary>
    public required string Name { get; init; }

    /// <summary>SHA-256 of the model config and preprocessing in their hub JSON form.</summary>
    public required string ConfigSha256 { get; init; }

    /// <summary>Input resolution in pixels.</summary>
    public required int ImageSize { get; init; }

    /// <summary>The backend and the dtype of its inputs when the index was built (for people; the probe decides).</summary>
    public required string DType { get; init; }

    /// <summary>The normalized embedding of <see cref="ProbeImage"/>.</summary>
    public required float[] Probe { get; init; }

    /// <summary>Cosine similarity above which two probe embeddings come from the same weights. bfloat16 against
    /// float32 stays above 0.999 (relative error ≤ 2e-2 gives cosine ≥ 1 − 2e-4); different weights give ~0.</summary>
    public const double SameWeightsCosine = 0.99;

    /// <summary>The config hash of <paramref name="config"/> (name excluded: a folder and a hub id of one model agree).</summary>
    public static string HashConfig(ModelConfig config)
    {
        var json = ConfigJson.ToHubJson(config with { Name = "" });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>A deterministic [1, 3, S, S] input: smooth colour gradients in the normalized range, the same on
    /// every machine.</summary>
    public static float[] ProbeImage(int imageSize)
    {
        var pixels = new float[3 * imageSize * imageSize];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < imageSize; y++)
                for (int x = 0; x < imageSize; x++)
                    pixels[(c * imageSize + y) * imageSize + x] = (float)Math.Sin(0.37 * (c + 1) * x + 0.23 * y - c) * 1.5f;
        return pixels;
    }

    /// <summary>Why an encoder with <paramref name="other"/> may not query this index, or null when it may.</summary>
    public string? Mismatch(ModelFingerprint other)
    {
        if (ConfigSha256 != other.ConfigSha256) return $"the index was built with model '{Name}' (config {ConfigSha256[..12]}), the query model '{other.Name}' has config {other.ConfigSha256[..12]}";
        if (ImageSize != other.ImageSize) return $"the index was built at {ImageSize} px, the query model runs at {other.ImageSize} px";
        if (Probe.Length != other.Probe.Length) return $"the index holds {Probe.Length}-dimensional vectors, the query model makes {other.Probe.Length}";
        double dot = 0;
        for (int i = 0; i < Probe.Length; i++) dot += (double)Probe[i] * other.Probe[i];
        return dot < SameWeightsCosine
            ? $"the index was built with other weights than the query model '{other.Name}' (probe cosine {dot:F3}, same weights give ≥ {SameWeightsCosine})"
            : null;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;

namespace OpenVision.Training.Evaluation;

/// <summary>A folder of extracted features, one <c>.safetensors</c> file per (model, data set, transform), so
/// that repeated linear probes (other L2 grids, few-shot seeds) never re-encode. Files hold "features" [N, E]
/// float32 and "labels" [N] int64, with the model, data set, transform and skipped samples in the metadata.</summary>
public sealed class FeatureCache
{
    /// <summary>Name of the features array in a cache file.</summary>
    public const string FeaturesName = "features";

    /// <summary>Name of the labels array in a cache file.</summary>
    public const string LabelsName = "labels";

    /// <summary>Uses (and creates) <paramref name="folder"/>.</summary>
    public FeatureCache(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
    }

    /// <summary>The cache folder.</summary>
    public string Folder { get; }

    /// <summary>The cache file for this combination, or null when the encoder or the source cannot be identified
    /// (random weights, an in-memory source without fingerprint).</summary>
    public string? PathFor(OpenVisionEncoder encoder, ILabeledImageSource source, ImageTransformOptions transform)
    {
        if (encoder.CacheIdentity is not { } model || source.Fingerprint is not { } data) return null;
        string key = $"{model}\n{data}\n{Describe(transform)}";
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(Folder, $"{Slug(encoder.Config.Name)}_{Slug(source.Name)}_{hash}.safetensors");
    }

    /// <summary>One line naming every transform setting that changes the pixels.</summary>
    public static string Describe(ImageTransformOptions t) => string.Create(CultureInfo.InvariantCulture,
        $"{t.ImageSize}px {t.Mode} {t.Interpolation} mean={string.Join(',', t.Mean)} std={string.Join(',', t.Std)}");

    /// <summary>Reads a cache file, or returns null if it is missing or unreadable (it is then rewritten).</summary>
    public static FeatureSet? TryRead(string path, IReadOnlyList<string> classNames)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var arrays = SafetensorsFile.Read(path, out var metadata);
            if (!arrays.TryGetValue(FeaturesName, out var features) || !arrays.TryGetValue(LabelsName, out var labels)) return null;
            var labelValues = new long[labels.ElementCount];
            Buffer.BlockCopy(labels.Bytes, 0, labelValues, 0, labels.Bytes.Length);
            var skipped = metadata.TryGetValue("skipped", out var json) ? JsonSerializer.Deserialize<List<string[]>>(json) ?? [] : [];
            return new FeatureSet(features.ToTorch(), labelValues, classNames,
                skipped.Select(s => new SkippedItem(s[0], s[1])).ToList(), FromCache: true);
        }
        catch (CheckpointFormatException)
        {
            return null;
        }
    }

    /// <summary>The metadata written with a cache file.</summary>
    public static Dictionary<string, string> Metadata(OpenVisionEncoder encoder, ILabeledImageSource source, ImageTransformOptions transform,
        IReadOnlyList<SkippedItem> skipped) => new()
    {
        ["model"] = encoder.Config.Name,
        ["pretrained"] = encoder.Pretrained(),
        ["dataset"] = source.Name,
        ["transform"] = Describe(transform),
        ["skipped_count"] = skipped.Count.ToString(CultureInfo.InvariantCulture),
        ["skipped"] = JsonSerializer.Serialize(skipped.Select(s => new[] { s.Path, s.Reason })),
    };

    private static string Slug(string text)
    {
        var builder = new StringBuilder();
        foreach (char c in Path.GetFileName(Path.TrimEndingDirectorySeparator(text)))
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        return builder.Length == 0 ? "x" : builder.ToString(0, Math.Min(builder.Length, 48));
    }
}

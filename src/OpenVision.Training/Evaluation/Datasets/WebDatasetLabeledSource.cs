using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenVision.Training.Data.WebDataset;
using OpenVision.Vision;
using OpenVision.ZeroShot;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>A classification data set in WebDataset tar shards (CLIP_benchmark's <c>wds_*</c> sets, ImageNet
/// shards): the files of a sample grouped by key, the image from <c>.jpg/.jpeg/.png/.webp</c>, the class from
/// <c>.cls</c> (webdataset's convention: an integer) or the other entries of <see cref="WebDatasetEvalFields"/>. A
/// class entry may also hold a class name. Shards are read in order and streamed: memory holds a few batches. A
/// sample without image or class, with an unknown class, or whose image does not decode is skipped and counted, as
/// is the rest of a shard that breaks off.</summary>
public sealed class WebDatasetLabeledSource : ILabeledImageSource
{
    /// <summary>The class-name file CLIP_benchmark keeps next to (or one folder above) the shards.</summary>
    public const string ClassNamesFile = "classnames.txt";

    private readonly EvaluationShards shards;
    private readonly WebDatasetEvalFields fields;
    private readonly Dictionary<string, int> exactNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> looseNames = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Expands and checks the shard list; nothing is read until <see cref="Read"/>.</summary>
    /// <param name="shardPattern">Shards: a brace pattern (<c>dir/test-{000000..000003}.tar</c>), <c>::</c>-separated
    /// patterns or URLs.</param>
    /// <param name="classNames">Class names in label order; null reads <see cref="ClassNamesFile"/> beside the shards.</param>
    /// <param name="name">Data set name; null derives it from the shards' folder.</param>
    /// <param name="fields">Which entries hold image and class.</param>
    /// <exception cref="FileNotFoundException">A local shard of the pattern does not exist.</exception>
    /// <exception cref="ArgumentException">No class names were given and none lie beside the shards.</exception>
    public WebDatasetLabeledSource(string shardPattern, IReadOnlyList<string>? classNames = null, string? name = null, WebDatasetEvalFields? fields = null)
    {
        shards = new EvaluationShards(shardPattern);
        this.fields = fields ?? new WebDatasetEvalFields();
        if (classNames is null)
        {
            string file = shards.FindBeside(ClassNamesFile) ?? throw new ArgumentException(
                $"{shardPattern}: WebDataset shards do not list their classes; give the class names (a file with one per line) or put {ClassNamesFile} beside the shards");
            classNames = PromptSets.ReadList(file);
        }
        if (classNames.Count == 0) throw new ArgumentException("at least one class name is needed", nameof(classNames));
        ClassNames = classNames;
        for (int i = 0; i < classNames.Count; i++)
        {
            exactNames.TryAdd(classNames[i].Trim(), i);
            looseNames.TryAdd(classNames[i].Trim(), i);
        }
        Name = name ?? shards.DefaultName;
    }

    /// <summary>True when a data argument names WebDataset shards (braces, <c>::</c>, a URL or a <c>.tar</c> name)
    /// rather than a folder or another kind of file.</summary>
    public static bool LooksLikeShards(string data) => EvaluationShards.LooksLikeShards(data);

    /// <summary>The shards, in reading order.</summary>
    public IReadOnlyList<string> Shards => shards.Shards;

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Unknown: shards are not counted ahead of the run.</summary>
    public long? Count => null;

    /// <inheritdoc/>
    public string? Fingerprint => shards.Fingerprint;

    /// <inheritdoc/>
    public IEnumerable<LabeledImage> Read(CancellationToken cancellationToken = default) =>
        shards.Read(ToLabeled, (shard, reason) => new LabeledImage(EvaluationShards.Unusable(shard, reason), 0), cancellationToken);

    private LabeledImage ToLabeled(WebDatasetSample sample)
    {
        string key = EvaluationShards.KeyOf(sample);
        string? extension = fields.ImageExtensions.FirstOrDefault(sample.Files.ContainsKey);
        if (extension is null)
            return Unusable(key, $"no image (.{string.Join("/.", fields.ImageExtensions)}) among .{string.Join(", .", sample.Files.Keys)}");
        (int Label, string? Problem) label;
        try { label = LabelOf(sample); }
        catch (Exception e) when (e is DecoderFallbackException or JsonException)
        {
            return Unusable(key, $"bad metadata: {e.Message}");
        }
        if (label.Problem is not null) return Unusable(key, label.Problem);
        byte[] bytes = sample.Files[extension];
        string fileName = sample.FileName(extension);
        // Decoded later, on the batch stream's worker threads.
        return new LabeledImage(new ImageSample(key, () => ImageDecoder.Decode(bytes, fileName)), label.Label);
    }

    private (int Label, string? Problem) LabelOf(WebDatasetSample sample)
    {
        foreach (string extension in fields.LabelExtensions)
            if (EvaluationShards.Text(sample, extension) is { } text) return Resolve(text.Trim(), $".{extension}");
        if (fields.JsonExtension is { } json && sample.Files.TryGetValue(json, out var bytes))
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
                foreach (string field in fields.LabelJsonFields)
                {
                    if (!document.RootElement.TryGetProperty(field, out var value)) continue;
                    string where = $".{json} \"{field}\"";
                    return value.ValueKind switch
                    {
                        JsonValueKind.Number when value.TryGetInt32(out int index) => Resolve(index.ToString(CultureInfo.InvariantCulture), where),
                        JsonValueKind.String => Resolve(value.GetString()!.Trim(), where),
                        _ => (0, $"{where} is neither a class index nor a class name"),
                    };
                }
        }
        string places = $".{string.Join(", .", fields.LabelExtensions)}" +
            (fields.JsonExtension is { } j ? $" or .{j} field {string.Join("/", fields.LabelJsonFields)}" : "");
        return (0, $"no class ({places})");
    }

    // An index below the class count, or a class name (exact, then ignoring case).
    private (int, string?) Resolve(string value, string where)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            return index < ClassNames.Count ? (index, null) : (0, $"{where}: class {index} is outside 0..{ClassNames.Count - 1}");
        if (exactNames.TryGetValue(value, out int exact) || looseNames.TryGetValue(value, out exact)) return (exact, null);
        string shown = value.Length <= 40 ? value : value[..40] + "…";
        return (0, $"{where}: '{shown}' is neither a class index nor one of the {ClassNames.Count} class names");
    }

    private static LabeledImage Unusable(string key, string reason) => new(EvaluationShards.Unusable(key, reason), 0);
}

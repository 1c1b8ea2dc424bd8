using System.Text;
using System.Text.Json;
using OpenVision.Training.Data.WebDataset;
using OpenVision.Vision;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>Image–text retrieval data in WebDataset tar shards (CLIP_benchmark's <c>wds_mscoco_captions</c>,
/// <c>wds_flickr30k</c>): one sample per image, every line of its <c>.txt</c> a caption (or the captions of a
/// <c>.json</c> field, see <see cref="WebDatasetEvalFields"/>). Shards are read in order and streamed; a sample
/// without image or caption, or whose image does not decode, is skipped and counted with its captions.</summary>
public sealed class WebDatasetCaptionSource : ICaptionedImageSource
{
    private static readonly char[] LineBreaks = ['\n', '\r'];
    private readonly EvaluationShards shards;
    private readonly WebDatasetEvalFields fields;

    /// <summary>Expands and checks the shard list; nothing is read until <see cref="Read"/>.</summary>
    /// <param name="shardPattern">Shards: a brace pattern, <c>::</c>-separated patterns or URLs.</param>
    /// <param name="name">Data set name; null derives it from the shards' folder.</param>
    /// <param name="fields">Which entries hold image and captions.</param>
    /// <exception cref="FileNotFoundException">A local shard of the pattern does not exist.</exception>
    public WebDatasetCaptionSource(string shardPattern, string? name = null, WebDatasetEvalFields? fields = null)
    {
        shards = new EvaluationShards(shardPattern);
        this.fields = fields ?? new WebDatasetEvalFields();
        Name = name ?? shards.DefaultName;
    }

    /// <summary>The shards, in reading order.</summary>
    public IReadOnlyList<string> Shards => shards.Shards;

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Unknown: shards are not counted ahead of the run.</summary>
    public long? Count => null;

    /// <inheritdoc/>
    public IEnumerable<CaptionedImage> Read(CancellationToken cancellationToken = default) =>
        shards.Read(ToCaptioned, (shard, reason) => Unusable(shard, reason), cancellationToken);

    private CaptionedImage ToCaptioned(WebDatasetSample sample)
    {
        string key = EvaluationShards.KeyOf(sample);
        string? extension = fields.ImageExtensions.FirstOrDefault(sample.Files.ContainsKey);
        if (extension is null)
            return Unusable(key, $"no image (.{string.Join("/.", fields.ImageExtensions)}) among .{string.Join(", .", sample.Files.Keys)}");
        IReadOnlyList<string> captions;
        try { captions = CaptionsOf(sample); }
        catch (Exception e) when (e is DecoderFallbackException or JsonException or InvalidOperationException)
        {
            return Unusable(key, $"bad metadata: {e.Message}");
        }
        if (captions.Count == 0)
            return Unusable(key, $"no caption (.{fields.CaptionExtension}{(fields.JsonExtension is { } j ? $" or .{j} field {string.Join("/", fields.CaptionJsonFields)}" : "")})");
        byte[] bytes = sample.Files[extension];
        string fileName = sample.FileName(extension);
        return new CaptionedImage(new ImageSample(key, () => ImageDecoder.Decode(bytes, fileName)), captions);
    }

    // Lines of the caption text (CLIP_benchmark splits it with str.splitlines), else the first JSON field present.
    private List<string> CaptionsOf(WebDatasetSample sample)
    {
        if (EvaluationShards.Text(sample, fields.CaptionExtension) is { } text)
            return text.Split(LineBreaks, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (fields.JsonExtension is not { } json || !sample.Files.TryGetValue(json, out var bytes)) return [];
        using var document = JsonDocument.Parse(bytes);
        if (document.RootElement.ValueKind != JsonValueKind.Object) return [];
        foreach (string field in fields.CaptionJsonFields)
        {
            if (!document.RootElement.TryGetProperty(field, out var value)) continue;
            // GetString throws InvalidOperationException for a non-string item: reported as bad metadata.
            var found = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Select(c => c.GetString() ?? "") : [value.GetString() ?? ""];
            return found.Select(c => c.Trim()).Where(c => c.Length > 0).ToList();
        }
        return [];
    }

    private static CaptionedImage Unusable(string key, string reason) => new(EvaluationShards.Unusable(key, reason), []);
}

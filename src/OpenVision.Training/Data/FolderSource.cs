using System.Text.Json;
using OpenVision.Pipelines;

namespace OpenVision.Training.Data;

/// <summary>Image files in a folder tree with sidecar texts: <c>x.jpg</c> with alt-text <c>x.txt</c> and optionally a
/// synthetic caption in <c>x.caption.txt</c> or in a field of <c>x.json</c>. Images without alt-text are skipped.</summary>
/// <remarks>The folder is scanned and the sidecar texts are read when the source is built, so the stream of samples
/// (and with it every resume position) is fixed from then on; images are read when their turn comes.</remarks>
public sealed class FolderSource : IImageTextSource
{
    private readonly DataOrderOptions _order;
    private readonly Item[] _items;

    private sealed record Item(string ImagePath, string Key, string AltText, string? Caption);

    /// <summary>Scans <paramref name="directory"/> recursively for images (.jpg .jpeg .png .webp .gif .bmp).</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="order">Seed, shuffling and rank.</param>
    /// <param name="captionJsonFields">JSON fields that may hold the caption, in order of preference (default: recaption,
    /// re_caption, llava_caption).</param>
    public FolderSource(string directory, DataOrderOptions? order = null, IReadOnlyList<string>? captionJsonFields = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such folder");
        _order = order ?? new DataOrderOptions();
        _order.Validate();
        Directory = directory;
        // Not "caption": img2dataset's folder output stores the alt-text under that name (see WebDatasetOptions).
        captionJsonFields ??= ["recaption", "re_caption", "llava_caption"];
        var items = new List<Item>();
        foreach (string image in ImageFiles.Expand([directory]))
        {
            string stem = Path.Join(Path.GetDirectoryName(image), Path.GetFileNameWithoutExtension(image));
            string key = Path.GetRelativePath(directory, stem).Replace('\\', '/');
            try
            {
                string? alt = ReadText(stem + ".txt");
                if (string.IsNullOrWhiteSpace(alt))
                {
                    Skips.Add(directory, key, SkipReason.MissingAltText, $"no non-empty {Path.GetFileName(stem)}.txt beside {Path.GetFileName(image)}");
                    continue;
                }
                string? caption = ReadText(stem + ".caption.txt");
                if (string.IsNullOrWhiteSpace(caption)) caption = JsonField(stem + ".json", captionJsonFields);
                items.Add(new Item(image, key, alt.Trim(), string.IsNullOrWhiteSpace(caption) ? null : caption.Trim()));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
            {
                Skips.Add(directory, key, SkipReason.BadMetadata, e.Message);
            }
        }
        _items = [.. items];
    }

    /// <summary>The scanned folder.</summary>
    public string Directory { get; }

    /// <summary>Images with alt-text (all ranks together).</summary>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public SkipLog Skips { get; } = new();

    /// <inheritdoc/>
    public string Description => $"folder {Directory} ({_items.Length} images{(_order.WorldSize > 1 ? $", rank {_order.Rank} of {_order.WorldSize}" : "")})";

    /// <inheritdoc/>
    public IEnumerable<ImageTextSample> ReadEpoch(int epoch, long skip = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        var order = SampleOrder.ForEpoch(_items.Length, _order, epoch);
        return FileSamples.Read(order.Select(i => _items[i]), skip, Directory, Skips, cancellationToken,
            item => (item.ImagePath, item.Key, item.AltText, item.Caption, (int?)null));
    }

    private static string? ReadText(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    private static string? JsonField(string path, IReadOnlyList<string> fields)
    {
        if (!File.Exists(path)) return null;
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
        foreach (string field in fields)
            if (document.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String)
                return value.GetString();
        return null;
    }
}

using System.Text.Json;
using OpenVision.Training.Data;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>Images with one or more captions each, from a manifest: JSON Lines or a JSON array of objects
/// <c>{"image": path, "captions": [..]}</c> ("caption"/"text" and a single string are accepted too), or a CSV/TSV of
/// <c>image,caption</c> rows where an image's rows are grouped. Relative paths are taken from the manifest's folder.</summary>
public sealed class CaptionManifestSource : ICaptionedImageSource
{
    private static readonly string[] ImageKeys = ["image", "image_path", "file", "filename", "path"];
    private static readonly string[] CaptionKeys = ["captions", "caption", "text", "texts", "sentences", "comment"];
    private readonly List<(string Path, List<string> Captions)> images = [];

    /// <summary>Reads the manifest.</summary>
    /// <param name="manifestPath">.jsonl, .json, .csv or .tsv.</param>
    /// <param name="imageRoot">Folder for relative paths; null uses the manifest's folder.</param>
    /// <param name="name">Data set name; null uses the file name without extension.</param>
    public CaptionManifestSource(string manifestPath, string? imageRoot = null, string? name = null)
    {
        imageRoot ??= Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var byPath = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (image, captions) in ReadEntries(manifestPath))
        {
            string path = Path.Combine(imageRoot, image);
            if (!byPath.TryGetValue(path, out var list))
            {
                byPath[path] = list = [];
                images.Add((path, list));
            }
            list.AddRange(captions.Where(c => !string.IsNullOrWhiteSpace(c)));
        }
        if (images.Count == 0) throw new InvalidDataException($"{manifestPath}: no images");
        var bare = images.FirstOrDefault(i => i.Captions.Count == 0);
        if (bare.Path is not null) throw new InvalidDataException($"{manifestPath}: {bare.Path} has no caption");
        Name = name ?? Path.GetFileNameWithoutExtension(manifestPath);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public long? Count => images.Count;

    /// <summary>Total number of captions.</summary>
    public int CaptionCount => images.Sum(i => i.Captions.Count);

    /// <inheritdoc/>
    public IEnumerable<CaptionedImage> Read(CancellationToken cancellationToken = default)
    {
        foreach (var (path, captions) in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new CaptionedImage(ImageSample.FromFile(path), captions);
        }
    }

    private static IEnumerable<(string Image, IReadOnlyList<string> Captions)> ReadEntries(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".csv" or ".tsv") return ReadCsv(path);
        if (extension == ".jsonl") return File.ReadLines(path).Select((l, i) => (l, i)).Where(p => p.l.Trim().Length > 0)
            .Select(p => ParseObject(JsonDocument.Parse(p.l).RootElement, $"{path}:{p.i + 1}"));
        if (extension == ".json")
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: expected a JSON array of objects");
            return document.RootElement.EnumerateArray().Select((e, i) => ParseObject(e, $"{path}[{i}]")).ToList();
        }
        throw new InvalidDataException($"{path}: a caption manifest must be .jsonl, .json, .csv or .tsv");
    }

    private static (string, IReadOnlyList<string>) ParseObject(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected an object");
        string? image = null;
        IReadOnlyList<string>? captions = null;
        foreach (var property in element.EnumerateObject())
        {
            string key = property.Name.ToLowerInvariant();
            if (image is null && ImageKeys.Contains(key) && property.Value.ValueKind == JsonValueKind.String) image = property.Value.GetString();
            else if (captions is null && CaptionKeys.Contains(key))
                captions = property.Value.ValueKind switch
                {
                    JsonValueKind.String => [property.Value.GetString()!],
                    JsonValueKind.Array => property.Value.EnumerateArray().Select(c => c.GetString() ?? "").ToList(),
                    _ => throw new InvalidDataException($"{where}: '{property.Name}' must be a string or a list of strings"),
                };
        }
        if (image is null) throw new InvalidDataException($"{where}: no image path (one of {string.Join(", ", ImageKeys)})");
        if (captions is null) throw new InvalidDataException($"{where}: no captions (one of {string.Join(", ", CaptionKeys)})");
        return (image, captions);
    }

    // A header row is optional; when present, its caption column may be any the training manifest accepts, so a
    // manifest that trains also evaluates (ManifestOptions: alt_text, caption, ...). Without one: image, caption.
    private static IEnumerable<(string, IReadOnlyList<string>)> ReadCsv(string path)
    {
        char separator = DelimitedText.DelimiterFor(path);
        var manifest = new ManifestOptions();
        string[] captionColumns = [.. CaptionKeys, .. manifest.CaptionColumns, .. manifest.AltTextColumns];
        string[] imageColumns = [.. ImageKeys, .. manifest.ImageColumns];
        int image = 0, caption = 1;
        bool first = true;
        foreach (var (line, fields) in DelimitedText.ReadFile(path, separator))
        {
            if (fields.All(string.IsNullOrWhiteSpace)) continue;
            if (first)
            {
                first = false;
                var names = fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
                int captionColumn = captionColumns.Select(c => names.IndexOf(c)).FirstOrDefault(i => i >= 0, -1);
                if (captionColumn >= 0)
                {
                    caption = captionColumn;
                    image = imageColumns.Select(c => names.IndexOf(c)).FirstOrDefault(i => i >= 0, 0);
                    continue;
                }
            }
            if (fields.Length <= Math.Max(image, caption)) throw new InvalidDataException($"{path}:{line}: expected image{separator}caption");
            yield return (fields[image].Trim(), [fields[caption].Trim()]);
        }
    }
}

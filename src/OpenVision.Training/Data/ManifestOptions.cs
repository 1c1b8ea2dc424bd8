namespace OpenVision.Training.Data;

/// <summary>How to read a CSV/TSV manifest: delimiter and which header names hold which column.</summary>
/// <remarks>Header names match case-insensitively; the first name of each list found in the header is used.</remarks>
public sealed record ManifestOptions
{
    /// <summary>Field delimiter; null picks tab for .tsv/.tab files and comma otherwise.</summary>
    public char? Delimiter { get; init; }

    /// <summary>Header names of the image path column (open_clip's CSV uses "filepath").</summary>
    public IReadOnlyList<string> ImageColumns { get; init; } = ["image", "filepath", "image_path", "path", "file"];

    /// <summary>Header names of the alt-text column (open_clip's CSV uses "title").</summary>
    public IReadOnlyList<string> AltTextColumns { get; init; } = ["alt_text", "alttext", "text", "title", "txt"];

    /// <summary>Header names of the optional synthetic caption column.</summary>
    public IReadOnlyList<string> CaptionColumns { get; init; } = ["caption", "recaption", "re_caption", "llava_caption"];

    /// <summary>Header names of the optional integer label column.</summary>
    public IReadOnlyList<string> LabelColumns { get; init; } = ["label", "cls"];

    /// <summary>Folder that relative image paths start from; null means the manifest's folder.</summary>
    public string? BaseDirectory { get; init; }
}

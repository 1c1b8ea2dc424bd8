namespace OpenVision.Training.Data.WebDataset;

/// <summary>Which files of a WebDataset sample hold the image, the alt-text, the synthetic caption and the label.</summary>
public sealed record WebDatasetOptions
{
    /// <summary>Image extensions, in order of preference (the first present is used).</summary>
    public IReadOnlyList<string> ImageExtensions { get; init; } = ["jpg", "jpeg", "png", "webp"];

    /// <summary>Extension of the alt-text file (UTF-8).</summary>
    public string AltTextExtension { get; init; } = "txt";

    /// <summary>Extension of a caption text file, checked before the JSON (e.g. "recap.txt"); null for none.</summary>
    public string? CaptionTextExtension { get; init; } = "recap.txt";

    /// <summary>Extension of the JSON metadata file; null to ignore JSON.</summary>
    public string? CaptionJsonExtension { get; init; } = "json";

    /// <summary>JSON fields that may hold the synthetic caption, in order of preference.</summary>
    /// <remarks>"caption" is deliberately not a default: img2dataset stores the alt-text under that name, which would
    /// make both texts the alt-text without saying so. Add it when your JSON means a synthetic caption by it.</remarks>
    public IReadOnlyList<string> CaptionJsonFields { get; init; } = ["recaption", "re_caption", "llava_caption"];

    /// <summary>Extension of the class label file (an ASCII integer); null to ignore labels.</summary>
    public string? LabelExtension { get; init; } = "cls";
}

using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>Which entries of a WebDataset sample an evaluation reads. The defaults follow webdataset's and
/// CLIP_benchmark's conventions: the image is the first of <c>.jpg .jpeg .png .webp</c>; the class is an integer
/// (or a class name) in <c>.cls</c>, else in <c>.class</c> or <c>.label</c>, else a field of the <c>.json</c>;
/// retrieval captions are the lines of <c>.txt</c>, else a string or list field of the <c>.json</c>.</summary>
public sealed record WebDatasetEvalFields
{
    /// <summary>Image extensions in order of preference (the training reader's list).</summary>
    public IReadOnlyList<string> ImageExtensions { get; init; } = new WebDatasetOptions().ImageExtensions;

    /// <summary>Text entries that may hold the class, in order of preference.</summary>
    public IReadOnlyList<string> LabelExtensions { get; init; } = ["cls", "class", "label"];

    /// <summary>The JSON metadata entry; null to ignore JSON.</summary>
    public string? JsonExtension { get; init; } = "json";

    /// <summary>JSON fields that may hold the class (an integer or a name), in order of preference.</summary>
    public IReadOnlyList<string> LabelJsonFields { get; init; } = ["cls", "class", "label"];

    /// <summary>Text entry holding the captions, one per line (CLIP_benchmark's retrieval shards).</summary>
    public string CaptionExtension { get; init; } = "txt";

    /// <summary>JSON fields that may hold the captions (a string or a list of strings), in order of preference.</summary>
    public IReadOnlyList<string> CaptionJsonFields { get; init; } = ["captions", "caption", "texts", "text"];
}

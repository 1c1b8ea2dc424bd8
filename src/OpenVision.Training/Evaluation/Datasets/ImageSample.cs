using OpenVision.Vision;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>One image of a data set, decoded on demand (on a worker thread) so that sources can stream.</summary>
/// <param name="Key">Identifies the sample in reports: a file path, an archive member, "idx:123".</param>
/// <param name="Decode">Produces the decoded image; throwing <see cref="ImageDecodeException"/>,
/// <see cref="IOException"/> or <see cref="InvalidDataException"/> marks the sample as skipped.</param>
public sealed record ImageSample(string Key, Func<DecodedImage> Decode)
{
    /// <summary>A sample read from an image file.</summary>
    public static ImageSample FromFile(string path) => new(path, () => ImageDecoder.Decode(path));

    /// <summary>A sample already decoded in memory.</summary>
    public static ImageSample FromImage(string key, DecodedImage image) => new(key, () => image);
}

/// <summary>An image with its class index.</summary>
/// <param name="Image">The image.</param>
/// <param name="Label">Index into the source's class names.</param>
public sealed record LabeledImage(ImageSample Image, int Label);

/// <summary>An image with its captions (one or more), for retrieval.</summary>
/// <param name="Image">The image.</param>
/// <param name="Captions">Every caption that counts as a match for this image.</param>
public sealed record CaptionedImage(ImageSample Image, IReadOnlyList<string> Captions);

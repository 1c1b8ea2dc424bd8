using OpenVision.Vision;

namespace OpenVision.Training.Data;

/// <summary>One training example: an image (encoded bytes, or already decoded pixels), its alt-text, an optional
/// synthetic caption and an optional class label.</summary>
/// <remarks>Sources hand out encoded bytes so that decoding happens on the batcher's worker threads, not on the
/// thread that reads the shards; in-memory data sets may hand out decoded pixels instead.</remarks>
public sealed record ImageTextSample
{
    /// <summary>A sample holding encoded image bytes.</summary>
    public ImageTextSample(string key, byte[] imageBytes, string imageName, string altText, string? caption = null, int? label = null)
    {
        ArgumentNullException.ThrowIfNull(imageBytes);
        (Key, ImageBytes, ImageName, AltText, Caption, Label) = (Check(key), imageBytes, Check(imageName), Check(altText), caption, label);
    }

    /// <summary>A sample holding decoded pixels.</summary>
    public ImageTextSample(string key, DecodedImage image, string altText, string? caption = null, int? label = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        (Key, Image, ImageName, AltText, Caption, Label) = (Check(key), image, key, Check(altText), caption, label);
    }

    /// <summary>The sample's key (WebDataset: the file path up to the first dot of the base name).</summary>
    public string Key { get; }

    /// <summary>The encoded image (JPEG, PNG, WebP, …) when the sample is not decoded yet.</summary>
    public byte[]? ImageBytes { get; }

    /// <summary>The decoded image when the source already holds pixels.</summary>
    public DecodedImage? Image { get; }

    /// <summary>Where the image came from, for error messages (e.g. "shard-000001.tar:abc.jpg").</summary>
    public string ImageName { get; }

    /// <summary>The original alt-text (contrastive text #1).</summary>
    public string AltText { get; }

    /// <summary>The synthetic caption (sub-caption source and decoder target), or null when the data has none.</summary>
    public string? Caption { get; }

    /// <summary>The class label, when the data set has one.</summary>
    public int? Label { get; }

    /// <summary>The decoded image: <see cref="Image"/>, or <see cref="ImageBytes"/> decoded now.</summary>
    /// <exception cref="ImageDecodeException">The bytes are not a decodable image.</exception>
    public DecodedImage Decode(ImageDecoderOptions? options = null) =>
        Image ?? ImageDecoder.Decode(ImageBytes, ImageName, options);

    private static string Check(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null) =>
        value ?? throw new ArgumentNullException(name);
}

using OpenVision.Vision;

namespace OpenVision.Search;

/// <summary>One image to index: a key (file path or sample key), an optional caption and how to decode it.</summary>
/// <param name="Key">Unique within the index; inputs whose key is already indexed or skipped are not embedded again.</param>
/// <param name="Caption">Caption to store with the item, if any.</param>
/// <param name="Decode">Decodes the image (called on a worker thread); throws <see cref="ImageDecodeException"/> or
/// <see cref="IOException"/> for inputs to skip.</param>
public sealed record IndexInput(string Key, string? Caption, Func<DecodedImage> Decode)
{
    /// <summary>An image file, keyed by its path.</summary>
    public static IndexInput FromFile(string path, string? caption = null, ImageDecoderOptions? options = null) =>
        new(path, caption, () => ImageDecoder.Decode(path, options));
}

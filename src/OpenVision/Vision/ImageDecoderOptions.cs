namespace OpenVision.Vision;

/// <summary>Runtime limits for <see cref="ImageDecoder"/>.</summary>
public sealed record ImageDecoderOptions
{
    /// <summary>Pillow's <c>Image.MAX_IMAGE_PIXELS</c> (1024³ / 4 / 3); Pillow raises above twice this.</summary>
    public const long PillowMaxImagePixels = 89_478_485;

    /// <summary>The default options: Pillow's decompression-bomb error threshold.</summary>
    public static ImageDecoderOptions Default { get; } = new();

    /// <summary>Largest width × height accepted, checked from the header before any pixel is decoded.
    /// Defaults to 2 × <see cref="PillowMaxImagePixels"/> = 178,956,970, where Pillow raises DecompressionBombError.</summary>
    public long MaxPixels { get; init; } = 2 * PillowMaxImagePixels;
}

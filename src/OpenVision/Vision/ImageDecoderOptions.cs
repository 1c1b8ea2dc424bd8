namespace OpenVision.Vision;

/// <summary>Runtime limits for <see cref="ImageDecoder"/>.</summary>
public sealed record ImageDecoderOptions
{
    /// <summary>Pillow's <c>Image.MAX_IMAGE_PIXELS</c> (1024³ / 4 / 3); Pillow raises above twice this.</summary>
    public const long PillowMaxImagePixels = 89_478_485;

    /// <summary>Default largest encoded file: 256 MiB.</summary>
    public const long DefaultMaxFileBytes = 256L << 20;

    /// <summary>The default limits, raised by the environment variables <c>OPENVISION_MAX_IMAGE_PIXELS</c> and
    /// <c>OPENVISION_MAX_IMAGE_BYTES</c> when they hold a positive integer.</summary>
    public static ImageDecoderOptions Default { get; } = new()
    {
        MaxPixels = EnvironmentLimit("OPENVISION_MAX_IMAGE_PIXELS") ?? 2 * PillowMaxImagePixels,
        MaxFileBytes = EnvironmentLimit("OPENVISION_MAX_IMAGE_BYTES") ?? DefaultMaxFileBytes,
    };

    /// <summary>Largest width × height accepted, checked from the header before any pixel is decoded.
    /// Defaults to 2 × <see cref="PillowMaxImagePixels"/> = 178,956,970, where Pillow raises DecompressionBombError.</summary>
    public long MaxPixels { get; init; } = 2 * PillowMaxImagePixels;

    /// <summary>Largest encoded image accepted, in bytes (<see cref="DefaultMaxFileBytes"/>); checked before reading
    /// a file and while reading a stream.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    private static long? EnvironmentLimit(string name) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), out long value) && value > 0 ? value : null;
}

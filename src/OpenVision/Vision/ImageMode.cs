namespace OpenVision.Vision;

/// <summary>The Pillow mode of a decoded image. It matters because Pillow resizes each mode differently.</summary>
public enum ImageMode
{
    /// <summary>Pillow "1": one bit per pixel, stored as 0 or 255; resized with NEAREST.</summary>
    Bilevel,

    /// <summary>Pillow "L": 8-bit grey, resized as one channel, replicated by convert('RGB').</summary>
    L,

    /// <summary>Pillow "LA": grey plus alpha, resized premultiplied; the alpha is dropped without compositing.</summary>
    LA,

    /// <summary>Pillow "P": palette indices, resized with NEAREST. Stored here already expanded to RGB.</summary>
    P,

    /// <summary>Pillow "RGB".</summary>
    Rgb,

    /// <summary>Pillow "RGBA": resized premultiplied (RGBa), the alpha is dropped without compositing.</summary>
    Rgba,

    /// <summary>Pillow "CMYK" (JPEG, Adobe polarity already undone): resized as four channels, then converted.</summary>
    Cmyk,

    /// <summary>Pillow "I" from a 16-bit grey PNG: stored as little-endian uint16, resized in double precision,
    /// clipped to 0..255 by convert('RGB').</summary>
    I,
}

/// <summary>Facts about <see cref="ImageMode"/> values.</summary>
public static class ImageModeExtensions
{
    /// <summary>Pillow's name of the mode ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I").</summary>
    public static string PillowName(this ImageMode mode) => mode switch
    {
        ImageMode.Bilevel => "1",
        ImageMode.L => "L",
        ImageMode.LA => "LA",
        ImageMode.P => "P",
        ImageMode.Rgb => "RGB",
        ImageMode.Rgba => "RGBA",
        ImageMode.Cmyk => "CMYK",
        ImageMode.I => "I",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>Channels stored per pixel in <see cref="DecodedImage.Pixels"/> (P is stored as expanded RGB).</summary>
    public static int StoredChannels(this ImageMode mode) => mode switch
    {
        ImageMode.Bilevel or ImageMode.L or ImageMode.I => 1,
        ImageMode.LA => 2,
        ImageMode.P or ImageMode.Rgb => 3,
        ImageMode.Rgba or ImageMode.Cmyk => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>Bytes stored per pixel in <see cref="DecodedImage.Pixels"/>.</summary>
    public static int BytesPerPixel(this ImageMode mode) => mode == ImageMode.I ? 2 : mode.StoredChannels();
}

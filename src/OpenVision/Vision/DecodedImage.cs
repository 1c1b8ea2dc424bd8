namespace OpenVision.Vision;

/// <summary>A decoded image in its Pillow mode: interleaved pixels, rows top to bottom, no padding.</summary>
/// <remarks>Layout of <see cref="Pixels"/> per mode: "1" and "L" one byte (0/255 for "1"); "LA" grey, alpha; "P" the
/// palette already applied (R, G, B; Pillow's 256-entry palette with unset entries as the grey ramp); "RGB";
/// "RGBA" not premultiplied; "CMYK" as Pillow holds it (ink amounts, Adobe inversion undone); "I" little-endian
/// uint16. Expanding "P" before NEAREST resizing gives the same pixels as Pillow's index resize then convert.</remarks>
public sealed class DecodedImage
{
    /// <summary>Wraps decoded pixels; the array length must be width × height × <see cref="ImageModeExtensions.BytesPerPixel"/>.</summary>
    public DecodedImage(int width, int height, ImageMode mode, byte[] pixels, ImageFormat format)
        : this(width, height, mode, pixels, format, leased: false)
    {
    }

    // leased: the pixels were rented from ArrayPool<byte>.Shared and the array may be longer than the image; only
    // ImageDecoder.DecodeLeased makes these, for callers that transform the image and give the array back.
    internal DecodedImage(int width, int height, ImageMode mode, byte[] pixels, ImageFormat format, bool leased)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = (long)width * height * mode.BytesPerPixel();
        if (leased ? pixels.LongLength < expected : pixels.LongLength != expected)
            throw new ArgumentException($"{pixels.LongLength} bytes do not hold a {width}x{height} {mode.PillowName()} image ({expected} bytes)", nameof(pixels));
        Width = width;
        Height = height;
        Mode = mode;
        Pixels = pixels;
        Format = format;
        Leased = leased;
    }

    internal bool Leased { get; private set; }

    /// <summary>Gives leased pixels back to the pool; the image must not be used afterwards. No effect otherwise.</summary>
    internal void ReturnLease()
    {
        if (!Leased) return;
        Leased = false;
        System.Buffers.ArrayPool<byte>.Shared.Return(Pixels);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The Pillow mode the reference would give this file.</summary>
    public ImageMode Mode { get; }

    /// <summary>Interleaved pixel bytes in the layout described for the mode.</summary>
    public byte[] Pixels { get; }

    /// <summary>The container format the pixels came from.</summary>
    public ImageFormat Format { get; }

    /// <summary>Channels per pixel in <see cref="Pixels"/>.</summary>
    public int Channels => Mode.StoredChannels();

    /// <summary>The image as Pillow's <c>convert('RGB')</c> gives it: height × width × 3 bytes.</summary>
    public byte[] ToRgb()
    {
        var rgb = new byte[checked(Width * Height * 3)];
        PillowConvert.ToRgb(Mode, Pixels, rgb, Width * Height);
        return rgb;
    }
}

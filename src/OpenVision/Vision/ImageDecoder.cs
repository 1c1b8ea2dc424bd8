using System.Buffers;
using OpenVision.IO;

namespace OpenVision.Vision;

/// <summary>Decodes JPEG, PNG, GIF (first frame), WebP and BMP into the pixels and Pillow mode that Pillow 9.4's
/// <c>Image.open</c> gives. EXIF orientation is ignored, as the reference ignores it.</summary>
/// <remarks>PNG, GIF and BMP are decoded by our own code (Pillow's unpacking rules: 16-bit samples keep the high
/// byte, unset palette entries are the grey ramp, and so on). JPEG (grey and YCbCr) and WebP go through SkiaSharp's
/// libjpeg-turbo and libwebp; four-channel (CMYK) JPEGs through BitMiracle.LibJpeg.NET, because resizing needs the
/// raw CMYK samples, which SkiaSharp does not expose. Every failure is an <see cref="ImageDecodeException"/>.</remarks>
public static class ImageDecoder
{
    /// <summary>What decodes grey and colour JPEGs in this process: "libjpeg-turbo (SIMD)", or "SkiaSharp (why)"
    /// where the system library or the shim is missing; both give Pillow's pixels.</summary>
    public static string JpegDecoderName => TurboJpeg.Status;

    /// <summary>Decodes the image file at <paramref name="path"/>; only a regular file of at most
    /// <see cref="ImageDecoderOptions.MaxFileBytes"/> is read (a FIFO or a device is refused, never opened).</summary>
    public static DecodedImage Decode(string path, ImageDecoderOptions? options = null) => Decode(path, options, lease: false);

    /// <summary>Decodes a file for a caller that transforms the image at once and then hands its pixels back with
    /// <see cref="DecodedImage.ReturnLease"/>: JPEG pixels come from a shared pool, so a decoding thread keeps
    /// reusing one cache-warm buffer instead of filling a fresh large array per image.</summary>
    internal static DecodedImage DecodeLeased(string path, ImageDecoderOptions? options = null) => Decode(path, options, lease: true);

    private static DecodedImage Decode(string path, ImageDecoderOptions? options, bool lease)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageDecoderOptions.Default;
        byte[] data;
        int length;
        try
        {
            if (lease) data = InputFile.ReadAllBytesLeased(path, options.MaxFileBytes, out length);
            else length = (data = InputFile.ReadAllBytes(path, options.MaxFileBytes)).Length;
        }
        catch (InputFileException e)
        {
            throw new ImageDecodeException(path, e.Problem, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, $"cannot read the file: {e.Message}", e);
        }
        try
        {
            return Decode(data.AsSpan(0, length), path, options, lease);
        }
        finally
        {
            if (lease) ArrayPool<byte>.Shared.Return(data); // the decoders copy what they keep
        }
    }

    /// <summary>Reads <paramref name="stream"/> to its end (at most <see cref="ImageDecoderOptions.MaxFileBytes"/>)
    /// and decodes it; <paramref name="name"/> is used in errors.</summary>
    public static DecodedImage Decode(Stream stream, string name, ImageDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= ImageDecoderOptions.Default;
        using var buffer = new MemoryStream();
        try
        {
            InputFile.CopyBounded(stream, buffer, options.MaxFileBytes, name);
        }
        catch (InputFileException e)
        {
            throw new ImageDecodeException(name, e.Problem, e);
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(name, $"cannot read the stream: {e.Message}", e);
        }
        return Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), name, options);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> is used in errors.</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> data, string name, ImageDecoderOptions? options = null) => Decode(data, name, options, lease: false);

    private static DecodedImage Decode(ReadOnlySpan<byte> data, string name, ImageDecoderOptions? options, bool lease)
    {
        options ??= ImageDecoderOptions.Default;
        if (data.IsEmpty) throw new ImageDecodeException(name, "empty file (0 bytes)");
        var format = DetectFormat(data) ?? (TruncatedSignature(data) is { } cut
            ? throw new ImageDecodeException(name, $"truncated {FormatName(cut)}: the data ends after {data.Length} bytes, inside the {FormatName(cut)} signature")
            : throw new ImageDecodeException(name, $"unknown image format (starts with {Preview(data)}); expected PNG, JPEG, GIF, BMP or WebP"));
        var context = new DecodeContext(name, options, lease);
        try
        {
            return format switch
            {
                ImageFormat.Png => PngDecoder.Decode(data, context),
                ImageFormat.Gif => GifDecoder.Decode(data, context),
                ImageFormat.Bmp => BmpDecoder.Decode(data, context),
                ImageFormat.Jpeg => JpegDecoder.Decode(data, context),
                ImageFormat.WebP => WebPDecoder.Decode(data, context),
                _ => throw new ImageDecodeException(name, $"no decoder for {format}"),
            };
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException or ThreadInterruptedException))
        {
            // A malformed field sent a decoder past its data (an index out of range, a null table, a zlib error):
            // report a corrupt file, never a crash. The inner exception keeps the detail for a stack trace.
            throw new ImageDecodeException(name, $"corrupt or truncated {FormatName(format)} data", e);
        }
    }

    private static string FormatName(ImageFormat format) => format == ImageFormat.WebP ? "WebP" : format.ToString().ToUpperInvariant();

    // The first bytes as text when they are printable ("hello\n"), else in hex.
    private static string Preview(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(12, data.Length)];
        var text = new System.Text.StringBuilder("\"");
        foreach (byte b in head)
        {
            if (b is >= 0x20 and < 0x7F) text.Append((char)b);
            else if (b is (byte)'\n' or (byte)'\r' or (byte)'\t') text.Append(b == '\n' ? "\\n" : b == '\r' ? "\\r" : "\\t");
            else return $"bytes {Convert.ToHexString(head[..Math.Min(8, head.Length)])}";
        }
        return text.Append('"').ToString();
    }

    // The format whose signature the data begins but stops inside (FF D8 with no third byte, "GIF8", "RIFF" with no
    // "WEBP"): a cut-off file of that format, not an unknown one. One byte says too little to name a format.
    private static ImageFormat? TruncatedSignature(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2) return null;
        if (IsCutOff(data, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])) return ImageFormat.Png;
        if (IsCutOff(data, [0xFF, 0xD8, 0xFF])) return ImageFormat.Jpeg;
        if (IsCutOff(data, "GIF87a"u8) || IsCutOff(data, "GIF89a"u8)) return ImageFormat.Gif;
        // RIFF, four size bytes (any value), WEBP.
        if (data.Length < 12 && (IsCutOff(data, "RIFF"u8) || (data.StartsWith("RIFF"u8) && (data.Length <= 8 || "WEBP"u8.StartsWith(data[8..])))))
            return ImageFormat.WebP;
        return null;
    }

    private static bool IsCutOff(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => data.Length < signature.Length && signature.StartsWith(data);

    /// <summary>The format announced by the first bytes, or null when none of ours matches.</summary>
    public static ImageFormat? DetectFormat(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])) return ImageFormat.Png;
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return ImageFormat.Jpeg;
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8)) return ImageFormat.Gif;
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        if (data.StartsWith("BM"u8)) return ImageFormat.Bmp;
        return null;
    }
}

/// <summary>What every format decoder needs besides the bytes: the name for errors, the size limit, and whether the
/// caller takes pooled pixels (<see cref="ImageDecoder.DecodeLeased"/>).</summary>
internal readonly record struct DecodeContext(string Name, ImageDecoderOptions Options, bool Lease = false)
{
    public ImageDecodeException Error(string problem) => new(Name, problem);

    /// <summary>Pillow's checks on the header size, before any pixel is decoded: positive dimensions and
    /// the decompression-bomb limit.</summary>
    public void CheckSize(long width, long height)
    {
        if (width <= 0 || height <= 0) throw Error($"invalid image size {width}x{height}");
        long pixels = width * height;
        if (pixels > Options.MaxPixels)
            throw Error($"image size {width}x{height} ({pixels:N0} pixels) exceeds the limit of {Options.MaxPixels:N0} pixels (decompression bomb?)");
        // Our buffers are single arrays; 4 bytes per pixel must fit.
        if (pixels > Array.MaxLength / 4) throw Error($"image size {width}x{height} is too large to decode in memory");
    }
}
